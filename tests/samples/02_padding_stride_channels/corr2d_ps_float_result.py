# replaces: corr2d_ps
# loses: corr2d_ps
# mistake: starts from torch.zeros without a dtype, so integer inputs come back as float32
import torch.nn.functional as F


def corr2d_ps(X, K, padding=0, stride=1):
    p_h, p_w = (padding, padding) if isinstance(padding, int) else padding
    s_h, s_w = (stride, stride) if isinstance(stride, int) else stride
    Xp = F.pad(X, (p_w, p_w, p_h, p_h))
    h, w = K.shape
    if h > Xp.shape[0] or w > Xp.shape[1]:
        raise ValueError("kernel larger than the padded input")
    H, W = (Xp.shape[0] - h) // s_h + 1, (Xp.shape[1] - w) // s_w + 1
    Y = torch.zeros(H, W)
    for a in range(h):
        for b in range(w):
            Y = Y + Xp[a:a + s_h * (H - 1) + 1:s_h, b:b + s_w * (W - 1) + 1:s_w] * K[a, b]
    return Y
