# replaces: numerical_gradient
# loses: numerical_gradient
# mistake: uses the one-sided difference (L(x + h) - L(x)) / h, whose error grows like h instead of h squared
def numerical_gradient(f, x, dout, h=1e-5):
    point = x.detach().clone()
    flat, grad = point.view(-1), torch.zeros_like(point)
    base = (f(point) * dout).sum()
    for j in range(flat.numel()):
        old = flat[j].item()
        flat[j] = old + h
        grad.view(-1)[j] = ((f(point) * dout).sum() - base) / h
        flat[j] = old
    return grad
