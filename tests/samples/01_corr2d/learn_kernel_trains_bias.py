# replaces: learn_kernel
# loses: learn_kernel
# mistake: also trains the bias, and starts from torch.randn instead of torch.rand
def learn_kernel(X, Y, kernel_size, lr=3e-2, steps=10, seed=0):
    torch.manual_seed(seed)
    layer = Conv2D(kernel_size)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(layer.weight.shape))
    for _ in range(steps):
        loss = ((layer(X) - Y) ** 2).sum()
        layer.zero_grad()
        loss.backward()
        with torch.no_grad():
            layer.weight -= lr * layer.weight.grad
            layer.bias -= lr * layer.bias.grad
    return layer.weight.detach()
