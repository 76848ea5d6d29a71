# replaces: output_shape
# loses: output_shape corr2d_ps
# mistake: treats padding as the total over both sides (n + p - k) instead of per side (n + 2p - k)
def output_shape(input_hw, kernel_hw, padding=0, stride=1):
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
    (n_h, n_w), (k_h, k_w), (p_h, p_w), (s_h, s_w) = pair(input_hw), pair(kernel_hw), pair(padding), pair(stride)
    if k_h > n_h + 2 * p_h or k_w > n_w + 2 * p_w:
        raise ValueError("kernel larger than the padded input")
    return (n_h + p_h - k_h) // s_h + 1, (n_w + p_w - k_w) // s_w + 1
