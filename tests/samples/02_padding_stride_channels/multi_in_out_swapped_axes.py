# replaces: corr2d_multi_in_out
# loses: corr2d_multi_in_out
# mistake: "transposes" the weight to (C_in, C_out, h, w) with reshape, which scrambles which kernel meets which channel
def corr2d_multi_in_out(X, K):
    if X.shape[0] != K.shape[1]:
        raise ValueError("channel counts differ")
    c_out, c_in = K.shape[:2]
    swapped = K.reshape(c_in, c_out, *K.shape[2:])
    return torch.stack([sum(corr2d_ps(X[c], swapped[c, o]) for c in range(c_in)) for o in range(c_out)])
