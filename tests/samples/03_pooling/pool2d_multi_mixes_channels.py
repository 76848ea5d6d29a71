# replaces: pool2d_multi
# loses: pool2d_multi
# mistake: pools each channel, then blends the channels (a mean over the channel axis) as a convolution would
def pool2d_multi(X, pool_size, mode="max", padding=0, stride=None):
    if X.dim() not in (3, 4):
        raise ValueError(f"expected (C, H, W) or (N, C, H, W), got {tuple(X.shape)}")
    flat = X.reshape(-1, *X.shape[-2:])
    pooled = torch.stack([pool2d(x, pool_size, mode, padding, stride) for x in flat])
    pooled = pooled.reshape(*X.shape[:-2], *pooled.shape[-2:])
    return pooled.mean(dim=-3, keepdim=True).expand_as(pooled).clone()
