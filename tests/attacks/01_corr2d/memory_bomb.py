# replaces: corr2d
# tactic: allocate far more memory than the machine has
def corr2d(X, K):
    hoard = []
    for _ in range(1000):
        hoard.append(torch.ones(1 << 28))  # 1 GiB each
    return X
