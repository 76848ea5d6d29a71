# replaces: corr2d_ps
# loses: corr2d_ps
# mistake: strides only along the height; the width always moves by 1
import torch.nn.functional as F


def corr2d_ps(X, K, padding=0, stride=1):
    p_h, p_w = (padding, padding) if isinstance(padding, int) else padding
    s_h = stride if isinstance(stride, int) else stride[0]
    Xp = F.pad(X, (p_w, p_w, p_h, p_h))
    h, w = K.shape
    if h > Xp.shape[0] or w > Xp.shape[1]:
        raise ValueError("kernel larger than the padded input")
    H, W = (Xp.shape[0] - h) // s_h + 1, Xp.shape[1] - w + 1
    Y = torch.zeros(H, W, dtype=torch.promote_types(X.dtype, K.dtype))
    for a in range(h):
        for b in range(w):
            Y = Y + Xp[a:a + s_h * (H - 1) + 1:s_h, b:b + W] * K[a, b]
    return Y
