# replaces: conv_transpose2d
# loses: conv_transpose2d
# mistake: removes the padding from the bottom and right edges only (2p there) instead of p from each side
import torch


def conv_transpose2d(x, w, stride=1, padding=0):
    s_h, s_w = (stride, stride) if isinstance(stride, int) else stride
    p_h, p_w = (padding, padding) if isinstance(padding, int) else padding
    if x.dim() != 4 or w.dim() != 4 or x.shape[1] != w.shape[0]:
        raise ValueError("expected x (N, C_in, H, W) and w (C_in, C_out, h, w)")
    N, _, H, W = x.shape
    _, C_out, k_h, k_w = w.shape
    full_h, full_w = (H - 1) * s_h + k_h, (W - 1) * s_w + k_w
    if full_h - 2 * p_h < 1 or full_w - 2 * p_w < 1:
        raise ValueError("the padding crops the whole output away")
    dtype = torch.promote_types(x.dtype, w.dtype)
    out = torch.zeros(N, C_out, full_h, full_w, dtype=dtype, device=x.device)
    for i in range(H):
        for j in range(W):
            patch = torch.einsum("nc,cdab->ndab", x[:, :, i, j].to(dtype), w.to(dtype))
            out[:, :, i * s_h:i * s_h + k_h, j * s_w:j * s_w + k_w] += patch
    return out[:, :, :full_h - 2 * p_h, :full_w - 2 * p_w]
