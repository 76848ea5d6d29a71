# replaces: separate_kernel
# loses: separate_kernel
# mistake: returns K's first column and first row as the factors, without dividing by their shared entry
import torch


def separate_kernel(K, tol=1e-6):
    S = torch.linalg.svdvals(K.double())
    if S[0] == 0:
        return torch.zeros(K.shape[0], 1, dtype=K.dtype), torch.zeros(1, K.shape[1], dtype=K.dtype)
    if len(S) > 1 and S[1] > tol * S[0]:
        return None
    return K[:, :1].clone(), K[:1, :].clone()
