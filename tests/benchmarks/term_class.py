"""The cast of the rehearsed term (``tests/benchmarks/term.py``): 01_corr2d's graded cells, written five ways.

Each style is a whole, correct 01_corr2d written as a different student would: other loops, other names, other
error messages. Students who hand in the same style would be copies, so every honest student of the cast has one
of their own; the copied pair shares one, renamed and reformatted.
"""

from __future__ import annotations

OUTER_LOOPS = {
    "corr2d": '''
def corr2d(X, K):
    if X.ndim != 2 or K.ndim != 2:
        raise ValueError("X and K must both be matrices")
    kh, kw = K.shape
    rows, cols = X.shape[0] - kh + 1, X.shape[1] - kw + 1
    if rows <= 0 or cols <= 0:
        raise ValueError("the kernel is larger than the input")
    t = torch.promote_types(X.dtype, K.dtype)
    X = X.to(t)
    K = K.to(device=X.device, dtype=t)
    out = torch.empty(rows, cols, dtype=t, device=X.device)
    for i in range(rows):
        for j in range(cols):
            out[i, j] = (X[i:i + kh, j:j + kw] * K).sum()
    return out
''',
    "Conv2D": '''
class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        size = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        self.weight = nn.Parameter(torch.rand(size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return corr2d(x, self.weight) + self.bias
''',
    "learn_kernel": '''
def learn_kernel(X, Y, kernel_size, lr=3e-2, steps=10, seed=0):
    torch.manual_seed(seed)
    net = Conv2D(kernel_size)
    net.bias.requires_grad = False
    opt = torch.optim.SGD([net.weight], lr=lr)
    for step in range(steps):
        opt.zero_grad()
        err = net(X) - Y
        (err * err).sum().backward()
        opt.step()
    return net.weight.detach().clone()
''',
    "conv2d_strict": '''
def conv2d_strict(X, K):
    if K.ndim != 2:
        raise ValueError("the kernel must be 2-D")
    return corr2d(X, K.flip(0).flip(1))
''',
    "receptive_field": '''
def receptive_field(kernel_sizes, strides=None):
    strides = list(strides) if strides is not None else [1 for _ in kernel_sizes]
    if len(strides) != len(kernel_sizes):
        raise ValueError("kernel_sizes and strides differ in length")
    size = 1
    for k, s in reversed(list(zip(kernel_sizes, strides))):
        if k < 1 or s < 1:
            raise ValueError("sizes and strides start at 1")
        size = (size - 1) * s + k
    return int(size)
''',
}

GATHER = {
    "corr2d": '''
def corr2d(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    if len(X.shape) != 2 or len(K.shape) != 2:
        raise ValueError(f"expected 2-D tensors, got {tuple(X.shape)} and {tuple(K.shape)}")
    H, W = X.shape
    h, w = K.shape
    oh, ow = H - h + 1, W - w + 1
    if min(oh, ow) < 1:
        raise ValueError("kernel does not fit")
    kind = torch.promote_types(X.dtype, K.dtype)
    rows = torch.arange(oh, device=X.device)[:, None] + torch.arange(h, device=X.device)[None, :]
    cols = torch.arange(ow, device=X.device)[:, None] + torch.arange(w, device=X.device)[None, :]
    patches = X.to(kind)[rows[:, None, :, None], cols[None, :, None, :]]          # (oh, ow, h, w)
    flat = K.to(device=X.device, dtype=kind).reshape(h * w)
    return (patches.reshape(oh * ow, h * w) @ flat).reshape(oh, ow)
''',
    "Conv2D": '''
class Conv2D(nn.Module):
    def __init__(self, kernel_size: int | tuple[int, int]) -> None:
        super().__init__()
        if not isinstance(kernel_size, tuple):
            kernel_size = (int(kernel_size),) * 2
        self.weight = nn.Parameter(torch.rand(*kernel_size))
        self.bias = nn.Parameter(torch.tensor([0.0]))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        response = corr2d(image, self.weight)
        return response + self.bias
''',
    "learn_kernel": '''
def learn_kernel(X, Y, kernel_size, lr=3e-2, steps=10, seed=0):
    torch.manual_seed(seed)
    model = Conv2D(kernel_size)
    model.bias.requires_grad_(False)
    history = []
    for _ in range(steps):
        loss = (model(X) - Y).pow(2).sum()
        history.append(loss.item())
        (grad,) = torch.autograd.grad(loss, [model.weight])
        with torch.no_grad():
            model.weight.sub_(lr * grad)
    return model.weight.detach().clone()
''',
    "conv2d_strict": '''
def conv2d_strict(X: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    if K.dim() != 2:
        raise ValueError("conv2d_strict: K must be a matrix")
    flipped = torch.flip(K, dims=[0, 1])
    return corr2d(X, flipped)
''',
    "receptive_field": '''
def receptive_field(kernel_sizes: list[int], strides: list[int] | None = None) -> int:
    n = len(kernel_sizes)
    strides = [1] * n if strides is None else strides
    if len(strides) != n:
        raise ValueError("need one stride per layer")
    if any(k < 1 for k in kernel_sizes) or any(s < 1 for s in strides):
        raise ValueError("every kernel size and stride must be positive")
    total, step = 1, 1
    for i in range(n):
        total = total + (kernel_sizes[i] - 1) * step
        step = step * strides[i]
    return total
''',
}

COMPREHENSION = {
    "corr2d": '''
def corr2d(X, K):
    """Cross-correlate X with K, one window at a time."""
    if X.dim() != 2:
        raise ValueError("corr2d: X is not 2-D")
    if K.dim() != 2:
        raise ValueError("corr2d: K is not 2-D")
    (H, W), (h, w) = X.shape, K.shape
    if h > H or w > W:
        raise ValueError("corr2d: K is bigger than X")
    common = torch.promote_types(X.dtype, K.dtype)
    A, B = X.to(common), K.to(X.device).to(common)
    return torch.stack([
        torch.stack([torch.sum(A[r:r + h, c:c + w] * B) for c in range(W - w + 1)])
        for r in range(H - h + 1)
    ])
''',
    "Conv2D": '''
class Conv2D(nn.Module):
    """One channel in, one channel out."""

    def __init__(self, kernel_size):
        super(Conv2D, self).__init__()
        try:
            kh, kw = kernel_size
        except TypeError:
            kh = kw = kernel_size
        self.weight = nn.Parameter(torch.rand((kh, kw)))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, X):
        return self.bias + corr2d(X, self.weight)
''',
    "learn_kernel": '''
def learn_kernel(X, Y, kernel_size, lr=3e-2, steps=10, seed=0):
    torch.manual_seed(seed)
    conv = Conv2D(kernel_size)
    conv.bias.requires_grad_(False)
    i = 0
    while i < steps:
        conv.weight.grad = None
        l = torch.sum((conv(X) - Y) ** 2)
        l.backward()
        conv.weight.data -= lr * conv.weight.grad
        i += 1
    return conv.weight.detach().clone()
''',
    "conv2d_strict": '''
def conv2d_strict(X, K):
    if K.dim() != 2:
        raise ValueError("K must have two dimensions")
    return corr2d(X, torch.rot90(K, 2, dims=(0, 1)))
''',
    "receptive_field": '''
def receptive_field(kernel_sizes, strides=None):
    if strides is None:
        strides = [1] * len(kernel_sizes)
    if len(kernel_sizes) != len(strides):
        raise ValueError("lengths differ")
    for value in list(kernel_sizes) + list(strides):
        if value < 1:
            raise ValueError("a size or stride below 1")
    products = [1]
    for s in strides[:-1]:
        products.append(products[-1] * s)
    return 1 + sum((k - 1) * p for k, p in zip(kernel_sizes, products))
''',
}

SHIFTED_SUM = {
    "corr2d": '''
def corr2d(X, K):
    if X.dim() != 2 or K.dim() != 2:
        raise ValueError("both arguments must be 2-D")
    h, w = K.shape
    oh = X.shape[0] - h + 1
    ow = X.shape[1] - w + 1
    if oh < 1 or ow < 1:
        raise ValueError("kernel larger than input")
    dt = torch.promote_types(X.dtype, K.dtype)
    X = X.to(dt)
    K = K.to(X.device, dt)
    terms = [X[a:a + oh, b:b + ow] * K[a, b] for a in range(h) for b in range(w)]
    return torch.stack(terms).sum(dim=0)
''',
    "Conv2D": '''
class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        shape = kernel_size if isinstance(kernel_size, (tuple, list)) else [kernel_size, kernel_size]
        self.weight = nn.Parameter(torch.rand(tuple(shape)))
        self.bias = nn.Parameter(torch.zeros((1,)))

    def forward(self, inp):
        out = corr2d(inp, self.weight)
        out = out + self.bias
        return out
''',
    "learn_kernel": '''
def learn_kernel(X, Y, kernel_size, lr=3e-2, steps=10, seed=0):
    torch.manual_seed(seed)
    layer = Conv2D(kernel_size)
    layer.bias.requires_grad_(False)
    for _ in range(steps):
        residual = layer(X) - Y
        objective = torch.dot(residual.flatten(), residual.flatten())
        layer.zero_grad()
        objective.backward()
        with torch.no_grad():
            layer.weight.add_(layer.weight.grad, alpha=-lr)
    return layer.weight.detach().clone()
''',
    "conv2d_strict": '''
def conv2d_strict(X, K):
    if K.dim() != 2:
        raise ValueError("a 2-D kernel, please")
    h, w = K.shape
    rows = torch.arange(h - 1, -1, -1, device=K.device)
    cols = torch.arange(w - 1, -1, -1, device=K.device)
    return corr2d(X, K[rows][:, cols])
''',
    "receptive_field": '''
import math


def receptive_field(kernel_sizes, strides=None):
    strides = strides or [1] * len(kernel_sizes)
    if len(strides) != len(kernel_sizes):
        raise ValueError("mismatched lengths")
    if min(list(kernel_sizes) + list(strides), default=1) < 1:
        raise ValueError("values must be at least 1")
    return 1 + sum((k - 1) * math.prod(strides[:i]) for i, k in enumerate(kernel_sizes))
''',
}

# The style a pair shares: one of them wrote it, the other renamed and reformatted it.
ORIGINAL = {
    "corr2d": '''
def corr2d(X, K):
    # check the shapes first
    if X.dim() != 2 or K.dim() != 2:
        raise ValueError("need two matrices")
    n_rows, n_cols = X.shape
    k_rows, k_cols = K.shape
    if k_rows > n_rows or k_cols > n_cols:
        raise ValueError("kernel too big")
    kind = torch.promote_types(X.dtype, K.dtype)
    X = X.to(kind)
    K = K.to(device=X.device, dtype=kind)
    result = torch.zeros(n_rows - k_rows + 1, n_cols - k_cols + 1, dtype=kind, device=X.device)
    for row in range(result.shape[0]):
        window = X[row:row + k_rows]                       # a band of k_rows rows
        for col in range(result.shape[1]):
            result[row, col] = torch.sum(window[:, col:col + k_cols] * K)
    return result
''',
    "Conv2D": '''
class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        if type(kernel_size) is int:
            kernel_size = (kernel_size, kernel_size)
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        y = corr2d(x, self.weight)
        return y + self.bias
''',
    "learn_kernel": '''
def learn_kernel(X, Y, kernel_size, lr=3e-2, steps=10, seed=0):
    torch.manual_seed(seed)
    conv_layer = Conv2D(kernel_size)
    conv_layer.bias.requires_grad_(False)
    for epoch in range(steps):
        loss = ((conv_layer(X) - Y) ** 2).sum()
        conv_layer.weight.grad = None
        loss.backward()
        with torch.no_grad():
            conv_layer.weight -= lr * conv_layer.weight.grad
    return conv_layer.weight.detach().clone()
''',
    "conv2d_strict": '''
def conv2d_strict(X, K):
    if K.dim() != 2:
        raise ValueError("K must be 2-D")
    K_flipped = torch.flip(K, (0, 1))
    result = corr2d(X, K_flipped)
    return result
''',
    "receptive_field": '''
def receptive_field(kernel_sizes, strides=None):
    if strides is None:
        strides = [1] * len(kernel_sizes)
    if len(strides) != len(kernel_sizes):
        raise ValueError("one stride per layer")
    field, jump = 1, 1
    for layer in range(len(kernel_sizes)):
        k, s = kernel_sizes[layer], strides[layer]
        if k < 1 or s < 1:
            raise ValueError("kernel sizes and strides must be at least 1")
        field += (k - 1) * jump
        jump *= s
    return field
''',
}

RENAMED = {
    "corr2d": '''
def corr2d(X, K):
    if X.dim() != 2 or K.dim() != 2:
        raise ValueError("both inputs must be matrices")

    height, width = X.shape
    kh, kw = K.shape
    if kh > height or kw > width:
        raise ValueError("the kernel is too large")
    dtype = torch.promote_types(X.dtype, K.dtype)
    X = X.to(dtype)
    K = K.to(device=X.device, dtype=dtype)
    out = torch.zeros(height - kh + 1, width - kw + 1, dtype=dtype, device=X.device)
    for i in range(out.shape[0]):
        band = X[i:i + kh]
        for j in range(out.shape[1]):
            out[i, j] = torch.sum(band[:, j:j + kw] * K)
    return out
''',
    "Conv2D": '''
class Conv2D(nn.Module):
    def __init__(self, kernel_size):
        super().__init__()
        if type(kernel_size) is int:
            kernel_size = (kernel_size, kernel_size)
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, inputs):
        outputs = corr2d(inputs, self.weight)
        return outputs + self.bias
''',
    "learn_kernel": '''
def learn_kernel(X, Y, kernel_size, lr=3e-2, steps=10, seed=0):
    torch.manual_seed(seed)
    net = Conv2D(kernel_size)
    net.bias.requires_grad_(False)
    for it in range(steps):
        l = ((net(X) - Y) ** 2).sum()
        net.weight.grad = None
        l.backward()
        with torch.no_grad():
            net.weight -= lr * net.weight.grad
    return net.weight.detach().clone()
''',
    "conv2d_strict": '''
def conv2d_strict(X, K):
    if K.dim() != 2:
        raise ValueError("the kernel must be two-dimensional")
    flippedK = torch.flip(K, (0, 1))
    res = corr2d(X, flippedK)
    return res
''',
    "receptive_field": '''
def receptive_field(kernel_sizes, strides=None):
    if strides is None:
        strides = [1] * len(kernel_sizes)
    if len(strides) != len(kernel_sizes):
        raise ValueError("one stride for each layer")
    rf, j = 1, 1
    for idx in range(len(kernel_sizes)):
        ks, st = kernel_sizes[idx], strides[idx]
        if ks < 1 or st < 1:
            raise ValueError("sizes and strides must be >= 1")
        rf += (ks - 1) * j
        j *= st
    return rf
''',
}

STYLES = {"outer_loops": OUTER_LOOPS, "gather": GATHER, "comprehension": COMPREHENSION, "shifted_sum": SHIFTED_SUM,
          "original": ORIGINAL, "renamed": RENAMED}
