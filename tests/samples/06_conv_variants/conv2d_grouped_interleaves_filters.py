# replaces: conv2d_grouped
# loses: conv2d_grouped
# mistake: deals the filters out to the groups in turn (filter f to group f % groups), not in consecutive blocks
import torch
import torch.nn.functional as F


def conv2d_grouped(x, w, groups, stride=1, padding=0):
    s_h, s_w = (stride, stride) if isinstance(stride, int) else stride
    p_h, p_w = (padding, padding) if isinstance(padding, int) else padding
    N, C, H, W = x.shape
    F_out, per_group, k_h, k_w = w.shape
    if C % groups or F_out % groups or per_group * groups != C:
        raise ValueError("channels and filters must split into the groups")
    if k_h > H + 2 * p_h or k_w > W + 2 * p_w:
        raise ValueError("the kernel does not fit")
    out_h, out_w = (H + 2 * p_h - k_h) // s_h + 1, (W + 2 * p_w - k_w) // s_w + 1
    dtype = torch.promote_types(x.dtype, w.dtype)
    padded = F.pad(x.to(dtype), (p_w, p_w, p_h, p_h))
    out = torch.zeros(N, F_out, out_h, out_w, dtype=dtype, device=x.device)
    for f in range(F_out):
        g = f % groups
        channels = padded[:, g * per_group:(g + 1) * per_group]
        for a in range(k_h):
            for b in range(k_w):
                window = channels[:, :, a:a + (out_h - 1) * s_h + 1:s_h, b:b + (out_w - 1) * s_w + 1:s_w]
                out[:, f] += torch.einsum("nchw,c->nhw", window, w[f, :, a, b].to(dtype))
    return out
