# replaces: maxpool_forward
# loses: maxpool_backward
# mistake: remembers the last maximum of each window, so on ties the gradient goes to the wrong position
def maxpool_forward(x, pool_size, stride=None):
    (kh, kw) = (pool_size, pool_size) if isinstance(pool_size, int) else tuple(pool_size)
    stride = pool_size if stride is None else stride
    (sh, sw) = (stride, stride) if isinstance(stride, int) else tuple(stride)
    if kh > x.shape[2] or kw > x.shape[3]:
        raise ValueError("the window does not fit")
    windows = x.unfold(2, kh, sh).unfold(3, kw, sw).flatten(-2)
    last = windows.shape[-1] - 1 - windows.flip(-1).argmax(dim=-1)
    return windows.gather(-1, last[..., None])[..., 0], (x.shape, last, (kh, kw), (sh, sw))
