# replaces: depthwise_separable
# loses: depthwise_separable
# mistake: passes stride and padding to the pointwise 1x1 step too, subsampling twice and adding a second border
def depthwise_separable(x, w_depth, w_point, stride=1, padding=0):
    C = x.shape[1]
    if w_depth.shape[:2] != (C, 1) or w_point.shape[1:] != (C, 1, 1):
        raise ValueError("w_depth must be (C, 1, h, w) and w_point (F, C, 1, 1)")
    depthwise = conv2d_grouped(x, w_depth, C, stride, padding)
    return conv2d_grouped(depthwise, w_point, 1, stride, padding)
