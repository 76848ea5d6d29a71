# replaces: conv_forward_fast
# loses: conv_forward_fast
# mistake: builds the im2col matrix one example at a time: right, but a Python loop over N
def conv_forward_fast(x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    F, C_w, kh, kw = w.shape
    if C_w != C or H + 2 * padding < kh or W + 2 * padding < kw:
        raise ValueError("the kernel does not fit, or the channels differ")
    x_pad = torch.nn.functional.pad(x, (padding,) * 4)
    rows = []
    for n in range(N):
        windows = x_pad[n:n + 1].unfold(2, kh, stride).unfold(3, kw, stride)
        rows.append(windows.permute(0, 2, 3, 1, 4, 5).reshape(-1, C * kh * kw))
    H_out, W_out = windows.shape[2:4]
    cols = torch.cat(rows)
    w_matrix = w.reshape(F, -1)
    out = (cols @ w_matrix.T).reshape(N, H_out, W_out, F).permute(0, 3, 1, 2) + b.view(1, F, 1, 1)
    return out, (x.shape, w_matrix, w.shape, cols, stride, padding)
