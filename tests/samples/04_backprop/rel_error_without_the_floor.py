# replaces: rel_error
# loses: rel_error
# mistake: divides by |a| + |b| without the 1e-8 floor, so two zeros give NaN
def rel_error(a, b):
    a, b = a.double(), b.double()
    return float(((a - b).abs() / (a.abs() + b.abs())).max())
