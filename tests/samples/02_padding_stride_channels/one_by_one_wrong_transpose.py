# replaces: corr2d_multi_in_out_1x1
# loses: corr2d_multi_in_out_1x1
# mistake: multiplies in the wrong layout, (H*W, C_in) @ (C_in, C_out), then reshapes without transposing back
def corr2d_multi_in_out_1x1(X, K):
    c_in, h, w = X.shape
    if K.shape[2:] != (1, 1) or K.shape[1] != c_in:
        raise ValueError("expected a (C_out, C_in, 1, 1) kernel")
    c_out = K.shape[0]
    return (X.reshape(c_in, h * w).T @ K.reshape(c_out, c_in).T).reshape(c_out, h, w)
