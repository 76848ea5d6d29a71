# replaces: corr2d
# loses:
# mistake: none: the lecture's double loop over output positions, with the dtype rule, is a correct (slow) answer
def corr2d(X, K):
    if X.dim() != 2 or K.dim() != 2:
        raise ValueError("X and K must be 2-D")
    h, w = K.shape
    if h > X.shape[0] or w > X.shape[1]:
        raise ValueError(f"kernel {tuple(K.shape)} is larger than the input {tuple(X.shape)}")
    rows = []
    for i in range(X.shape[0] - h + 1):
        rows.append(torch.stack([(X[i:i + h, j:j + w] * K).sum() for j in range(X.shape[1] - w + 1)]))
    return torch.stack(rows).to(torch.promote_types(X.dtype, K.dtype))
