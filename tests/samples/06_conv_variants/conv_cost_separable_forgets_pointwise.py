# replaces: conv_cost
# loses: conv_cost
# mistake: counts only the depthwise step of a separable layer and forgets the pointwise 1x1 convolution
def conv_cost(c_in, c_out, kernel_hw, out_hw, groups=1, separable=False):
    k_h, k_w = (kernel_hw, kernel_hw) if isinstance(kernel_hw, int) else kernel_hw
    o_h, o_w = (out_hw, out_hw) if isinstance(out_hw, int) else out_hw
    if groups < 1 or c_in % groups or c_out % groups:
        raise ValueError("the channels do not split into the groups")
    params = c_in * k_h * k_w if separable else c_out * (c_in // groups) * k_h * k_w
    return params, params * o_h * o_w
