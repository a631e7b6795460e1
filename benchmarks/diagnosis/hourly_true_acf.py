import numpy as np
phi, s2, n = 0.95, 0.0225, 24
def cov_blocks(k):
    i = np.arange(n)
    d = np.abs(k*n + i[None,:] - i[:,None])
    return s2 * (phi**d).mean()
g = np.array([cov_blocks(k) for k in range(8)])
print("daily block-mean cov", g[:4], "acf", g[:6]/g[0])
# var of mean over 30 days
print("sd 30-day mean (true)", np.sqrt(s2*(phi**np.abs(np.arange(720)[:,None]-np.arange(720)[None,:])).mean()))
# AR(1) fitted to daily blocks by lag-1 acf, what 30-day mean sd would it give
for ph, A in [(g[1]/g[0], g[0]), (0.51, 0.0132)]:
    m = A*(ph**np.abs(np.arange(30)[:,None]-np.arange(30)[None,:])).mean()
    print("AR1 phi %.3f A %.4f -> sd30 %.4f" % (ph, A, np.sqrt(m)))
