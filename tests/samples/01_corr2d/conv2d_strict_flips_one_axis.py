# replaces: conv2d_strict
# loses: conv2d_strict
# mistake: flips the kernel on the rows only
def conv2d_strict(X, K):
    return corr2d(X, torch.flip(K, dims=(0,)))
