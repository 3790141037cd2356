# Fits the polynomial p(r) ~ exp(-r) on |r| <= ln2 / 2 (minimax relative error, Lawson iterations) that the
# AVX2 / AVX-512 SiLU of the depthwise kernels uses (kernels/cpu/depthwise_avx2.cpp, depthwise_avx512.cpp);
# prints the degree, the max relative error in double and with float32 coefficients, and the coefficients.
import numpy as np
a = np.log(2)/2*1.0005
x = np.cos(np.linspace(0, np.pi, 4001))*a
f = np.exp(-x)
for deg in (4,5,6):  # 4: the AVX-512 input SiLU (silu_in), 5: dw_silu
    w = np.ones_like(x)
    for it in range(200):  # Lawson iterations for minimax relative error
        V = np.vander(x, deg+1, increasing=True)
        sw = np.sqrt(w)
        c, *_ = np.linalg.lstsq(V*(sw/f)[:,None], sw, rcond=None)
        e = np.abs(V@c/f - 1)
        w = w*e; w /= w.sum()
    c32 = c.astype(np.float32).astype(np.float64)
    e32 = np.max(np.abs(np.vander(x,deg+1,increasing=True)@c32/f-1))
    print(deg, np.max(e), e32, [repr(np.float32(v)) for v in c])
