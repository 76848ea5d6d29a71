# replaces: conv_backward
# loses: conv_backward
# mistake: returns the gradient of the padded input, without cutting the padding off
def conv_backward(dout, cache):
    x, w, stride, padding = cache
    F, C, kh, kw = w.shape
    x_pad = torch.nn.functional.pad(x, (padding,) * 4)
    dx_pad, dw = torch.zeros_like(x_pad), torch.zeros_like(w)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows, cols = slice(i * stride, i * stride + kh), slice(j * stride, j * stride + kw)
            dw += torch.einsum("nf,ncab->fcab", dout[:, :, i, j], x_pad[:, :, rows, cols])
            dx_pad[:, :, rows, cols] += torch.einsum("nf,fcab->ncab", dout[:, :, i, j], w)
    return dx_pad, dw, dout.sum(dim=(0, 2, 3))
