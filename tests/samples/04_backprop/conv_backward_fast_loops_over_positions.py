# replaces: conv_backward_fast
# loses: conv_backward_fast
# mistake: right gradients, but a Python loop over the output positions, as in conv_backward
def conv_backward_fast(dout, cache):
    x_shape, w_matrix, w_shape, cols, stride, padding = cache
    N, C, H, W = x_shape
    F, _, kh, kw = w_shape
    H_out, W_out = dout.shape[2:]
    patches = cols.reshape(N, H_out, W_out, C * kh * kw)
    weights = w_matrix.reshape(F, C, kh, kw)
    dw = torch.zeros_like(w_matrix)
    dx_pad = torch.zeros(N, C, H + 2 * padding, W + 2 * padding, dtype=cols.dtype)
    for i in range(H_out):
        for j in range(W_out):
            grad = dout[:, :, i, j].to(cols.dtype)
            dw += grad.T @ patches[:, i, j]
            dx_pad[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw] += torch.einsum("nf,fcab->ncab", grad, weights)
    dx = dx_pad[:, :, padding:padding + H, padding:padding + W]
    return dx, dw.reshape(w_shape), dout.to(cols.dtype).sum(dim=(0, 2, 3))
