# replaces: pool2d
# loses: pool2d
# mistake: calls the aten pooling kernels directly through torch.ops (a forbidden route however it is spelt)
def pool2d(X, pool_size, mode="max", padding=0, stride=None):
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', not {mode!r}")
    k = [pool_size] * 2 if isinstance(pool_size, int) else list(pool_size)
    p = [padding] * 2 if isinstance(padding, int) else list(padding)
    s = k if stride is None else ([stride] * 2 if isinstance(stride, int) else list(stride))
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError("padding over half the window")
    aten = torch.ops.aten
    if mode == "max":
        return aten.max_pool2d_with_indices(X[None], k, s, p)[0][0]
    return aten.avg_pool2d(X[None], k, s, p, False, True)[0]
