# replaces: corr2d_ps
# loses: corr2d_ps
# mistake: correlates the unpadded input with the stride, then pads the output with zeros
import torch.nn.functional as F


def corr2d_ps(X, K, padding=0, stride=1):
    p_h, p_w = (padding, padding) if isinstance(padding, int) else padding
    s_h, s_w = (stride, stride) if isinstance(stride, int) else stride
    h, w = K.shape
    if h > X.shape[0] + 2 * p_h or w > X.shape[1] + 2 * p_w:
        raise ValueError("kernel larger than the padded input")
    H, W = max(0, (X.shape[0] - h) // s_h + 1), max(0, (X.shape[1] - w) // s_w + 1)
    Y = torch.zeros(H, W, dtype=torch.promote_types(X.dtype, K.dtype))
    for a in range(h):
        for b in range(w):
            Y = Y + X[a:a + s_h * (H - 1) + 1:s_h, b:b + s_w * (W - 1) + 1:s_w] * K[a, b]
    out_h, out_w = (X.shape[0] + 2 * p_h - h) // s_h + 1, (X.shape[1] + 2 * p_w - w) // s_w + 1
    Y = F.pad(Y, (0, out_w - W, 0, out_h - H)) if out_h >= H and out_w >= W else Y[:out_h, :out_w]
    return Y
