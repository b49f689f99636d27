// A gradient variant: each row writes its inputs' gradients.

const GRAD: bool = true;
