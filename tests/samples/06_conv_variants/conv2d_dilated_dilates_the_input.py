# replaces: conv2d_dilated
# loses: conv2d_dilated
# mistake: spreads the input apart (zeros between its pixels) instead of spreading the kernel's taps
import torch
import torch.nn.functional as F


def conv2d_dilated(x, w, dilation=1, stride=1, padding=0):
    d_h, d_w = (dilation, dilation) if isinstance(dilation, int) else dilation
    s_h, s_w = (stride, stride) if isinstance(stride, int) else stride
    p_h, p_w = (padding, padding) if isinstance(padding, int) else padding
    if x.dim() != 4 or w.dim() != 4 or x.shape[1] != w.shape[1]:
        raise ValueError("expected x (N, C, H, W) and w (F, C, h, w)")
    N, C, H, W = x.shape
    F_out, _, k_h, k_w = w.shape
    if d_h * (k_h - 1) + 1 > H + 2 * p_h or d_w * (k_w - 1) + 1 > W + 2 * p_w:
        raise ValueError("the dilated kernel does not fit")
    dtype = torch.promote_types(x.dtype, w.dtype)
    spread = torch.zeros(N, C, (H - 1) * d_h + 1, (W - 1) * d_w + 1, dtype=dtype, device=x.device)
    spread[:, :, ::d_h, ::d_w] = x.to(dtype)
    padded = F.pad(spread, (p_w, p_w, p_h, p_h))
    out_h, out_w = (padded.shape[2] - k_h) // s_h + 1, (padded.shape[3] - k_w) // s_w + 1
    out = torch.zeros(N, F_out, out_h, out_w, dtype=dtype, device=x.device)
    for a in range(k_h):
        for b in range(k_w):
            window = padded[:, :, a:a + (out_h - 1) * s_h + 1:s_h, b:b + (out_w - 1) * s_w + 1:s_w]
            out = out + torch.einsum("nchw,fc->nfhw", window, w[:, :, a, b].to(dtype))
    return out
