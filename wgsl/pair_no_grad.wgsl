// The loss alone: no gradient is written.

const GRAD: bool = false;
