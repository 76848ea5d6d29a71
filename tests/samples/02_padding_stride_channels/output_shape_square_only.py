# replaces: output_shape
# loses: output_shape corr2d_ps
# mistake: uses the height settings for both axes (only right for square inputs, kernels, paddings and strides)
def output_shape(input_hw, kernel_hw, padding=0, stride=1):
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
    n, k, p, s = pair(input_hw)[0], pair(kernel_hw)[0], pair(padding)[0], pair(stride)[0]
    if k > n + 2 * p:
        raise ValueError("kernel larger than the padded input")
    side = (n + 2 * p - k) // s + 1
    return side, side
