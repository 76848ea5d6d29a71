# replaces: conv_backward
# loses: conv_backward
# mistake: lets autograd compute the gradients through its own forward pass (the task is to derive them)
def conv_backward(dout, cache):
    x, w, stride, padding = cache
    leaves = [x.clone().requires_grad_(), w.clone().requires_grad_()]
    out, _ = conv_forward(leaves[0], leaves[1], torch.zeros(w.shape[0], dtype=w.dtype), stride, padding)
    dx, dw = torch.autograd.grad(out, leaves, dout)
    return dx, dw, dout.sum(dim=(0, 2, 3))
