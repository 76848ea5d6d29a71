# replaces: pool2d
# loses: pool2d
# mistake: always slides the window by one position, whatever the stride
import torch.nn.functional as F


def pool2d(X, pool_size, mode="max", padding=0, stride=None):
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', not {mode!r}")
    k_h, k_w = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    p_h, p_w = (padding, padding) if isinstance(padding, int) else padding
    if p_h > k_h // 2 or p_w > k_w // 2:
        raise ValueError("padding over half the window")
    Xp = F.pad(X, (p_w, p_w, p_h, p_h), value=float("-inf") if mode == "max" else 0.0)
    H, W = Xp.shape[0] - k_h + 1, Xp.shape[1] - k_w + 1
    windows = [Xp[a:a + H, b:b + W] for a in range(k_h) for b in range(k_w)]
    stacked = torch.stack(windows)
    return stacked.amax(0) if mode == "max" else stacked.mean(0)
