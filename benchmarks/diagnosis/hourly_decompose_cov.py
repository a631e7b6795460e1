import sys, numpy as np, pandas as pd
for f in sys.argv[1:]:
    df = pd.read_csv(f); df = df[df.q == 0]
    a = df.logcf_hat - df.logcf_det; nz = df.noise_true + df.cnt_true
    c = np.cov(a, nz)
    print(f"{f}: n={len(df)} sd(a)={np.sqrt(c[0,0]):.4f} (model par {df.sd_par.mean():.4f}) sd(n)={np.sqrt(c[1,1]):.4f} (model noise {df.sd_noise.mean():.4f}) corr(a,n)={c[0,1]/np.sqrt(c[0,0]*c[1,1]):.3f} sd(err)={df.err.std():.4f} model full {df.sd_full.mean():.4f} ratio {df.sd_full.mean()/df.err.std():.2f}")
