# replaces: conv_matrix
# loses: conv_matrix
# mistake: builds the matrix in the transposed layout (H*W, H'*W'), one column per output instead of one row
import torch


def conv_matrix(K, input_hw):
    H, W = input_hw
    h, w = K.shape
    if h > H or w > W:
        raise ValueError(f"kernel {tuple(K.shape)} does not fit in {(H, W)}")
    out_h, out_w = H - h + 1, W - w + 1
    C = torch.zeros(H * W, out_h * out_w, dtype=K.dtype, device=K.device)
    for i in range(out_h):
        for j in range(out_w):
            column = torch.zeros(H, W, dtype=K.dtype, device=K.device)
            column[i:i + h, j:j + w] = K
            C[:, i * out_w + j] = column.flatten()
    return C
