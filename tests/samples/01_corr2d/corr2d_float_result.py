# replaces: corr2d
# loses: corr2d conv2d_strict
# mistake: the result is always float32 (torch.zeros default), so integer inputs do not stay integer
def corr2d(X, K):
    h, w = K.shape
    if h > X.shape[0] or w > X.shape[1]:
        raise ValueError("kernel larger than input")
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(h):
        for j in range(w):
            Y = Y + X[i:i + Y.shape[0], j:j + Y.shape[1]] * K[i, j]
    return Y
