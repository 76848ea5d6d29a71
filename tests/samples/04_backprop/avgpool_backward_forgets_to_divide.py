# replaces: avgpool_backward
# loses: avgpool_backward
# mistake: sends each window's whole gradient to every position of the window, without dividing by its size
def avgpool_backward(dout, cache):
    shape, (kh, kw), (sh, sw) = cache
    H_out, W_out = dout.shape[2:]
    dx = torch.zeros(shape, dtype=dout.dtype)
    for a in range(kh):
        for e in range(kw):
            dx[:, :, a:a + sh * (H_out - 1) + 1:sh, e:e + sw * (W_out - 1) + 1:sw] += dout
    return dx
