"""Diagnosis of hourly overcoverage (SIMULATED). Writes a CSV of per-seed decomposition."""
import sys, warnings, time
import numpy as np, pandas as pd
from spamits.data.stress import simulate_stress, daily_bins, stress_case, HORIZON_DAYS
from spamits.its import fit
from spamits.its import _conditional as conditional
from spamits.its.families import FAMILY_MODELS
warnings.simplefilter("ignore")

def C_end(r, pos):
    resid, p, X = r.residuals
    return conditional.end_state(resid, p, X, pos, r.process, conditional.DAYS[r.freq]).process.q

def decompose(res, pos):
    rows = np.arange(pos, pos + HORIZON_DAYS)
    removed = res.events
    X = res._design_without(removed)[rows]; off = res.offset[rows]
    eta = X @ res.params.to_numpy() + off; eta_d = res._theta @ X.T + off
    noise = conditional.stationary_noise(res.process, rows, res.n_draws, res.seed)
    eta0, eta_d0 = eta.copy(), eta_d.copy()
    conditional.condition(eta, eta_d, noise, rows, pos, res.residuals, res._theta, res.params.to_numpy(),
                          res.process, True, res.seed, conditional.DAYS[res.freq])
    resp = lambda e, n=None: FAMILY_MODELS.get(res.family).response(e, res.process.gamma0, n, 1.0)
    full = np.log(resp(eta_d, noise).sum(1))
    par = np.log(resp(eta_d, np.zeros_like(noise)).sum(1))  # parameter part only (incl. conditional mean shift)
    nz = np.log(resp(np.broadcast_to(eta, eta_d.shape).copy(), noise).sum(1))
    return full.std(), par.std(), nz.std(), np.log(resp(eta).sum())

def main(case, n, first=0, **ov):
    out = []
    c = stress_case(case, **ov)
    for seed in range(first, first + n):
        fr = simulate_stress(case, seed, **ov)
        per = 24 if c.freq == "h" else 1
        # the realised AR noise: log(lam) minus its deterministic part
        idx = fr.index; t = np.arange(len(fr))
        det = np.log(c.base) + c.trend * t / (365.0 * per) + np.where(np.isin(idx.day_of_week, [5, 6]), c.weekend, 0.0)
        if c.hod_amplitude:
            det += c.hod_amplitude * np.cos(2 * np.pi * (idx.hour.to_numpy() - 15) / 24)
        w = slice(c.n_pre, c.n_pre + HORIZON_DAYS * per)
        cf_w = fr["counterfactual"].to_numpy()[w].sum()
        noise_true = np.log(fr["expected"].to_numpy()[w].sum() / np.exp(det[w]).sum())
        cnt_true = np.log(cf_w / fr["expected"].to_numpy()[w].sum())
        d = daily_bins(fr) if c.freq == "h" else fr
        y = d["observed"]; pos = int(d.attrs["settings"]["n_pre"])
        r = fit(y, y.index[pos], family="negbin", effect="decay", seasonality="dow", n_draws=1000)
        imp = r.impact(y.index[pos], y.index[pos + HORIZON_DAYS - 1])
        sd_full, sd_par, sd_noise, logcf_hat = decompose(r, pos)
        truth = fr.attrs["truth"]["relative_effect_30d"]
        # mean det over window on daily bins scale
        out.append(dict(seed=seed, truth=truth, est=imp["relative"], lo=imp["relative_low"], hi=imp["relative_high"],
                        covered=imp["relative_low"] <= truth <= imp["relative_high"],
                        err=logcf_hat - np.log(cf_w), sd_full=sd_full, sd_par=sd_par, sd_noise=sd_noise,
                        noise_true=noise_true, cnt_true=cnt_true,
                        logcf_det=np.log(np.exp(det[w]).sum()), logcf_hat=logcf_hat,
                        phi=r.process.phi, gamma0=r.process.gamma0, ar_var=r.process.ar_var,
                        q=C_end(r, pos), hl=float(r.effects.set_index("term").loc["half_life", "estimate"])))
    return pd.DataFrame(out)

if __name__ == "__main__":
    case, n = sys.argv[1], int(sys.argv[2])
    ov = dict(a.split("=") for a in sys.argv[4:]) if len(sys.argv) > 4 else {}
    ov = {k: float(v) if "." in v else int(v) for k, v in ov.items()}
    t = time.time()
    df = main(case, n, **ov)
    df.to_csv(sys.argv[3], index=False)
    print(f"{case} {ov} n={n} {time.time()-t:.0f}s coverage={df.covered.mean():.3f}")
    print("mean sd_full %.4f sd_par %.4f sd_noise %.4f | actual sd(err) %.4f mean err %.4f" % (
        df.sd_full.mean(), df.sd_par.mean(), df.sd_noise.mean(), df.err.std(), df.err.mean()))
    print("true realised noise sd (log sum lam/sum det) %.4f ; count noise sd %.4f" % (df.noise_true.std(), df.cnt_true.std()))
    print("phi mean %.3f gamma0 %.4f ar_var %.4f; width mean %.3f" % (df.phi.mean(), df.gamma0.mean(), df.ar_var.mean(), (df.hi-df.lo).mean()))
    for lab, m in (("q>0", df.q > 0), ("q=0", df.q == 0)):
        print(lab, "n", m.sum(), "coverage %.3f sd_full %.4f sd_par %.4f sd_noise %.4f actual sd(err) %.4f" % (df.covered[m].mean(), df.sd_full[m].mean(), df.sd_par[m].mean(), df.sd_noise[m].mean(), df.err[m].std()))
    print("corr(err, noise_true) %.3f ; sd(logcf_hat - logcf_det) %.4f" % (np.corrcoef(df.err, df.noise_true)[0,1], (df.logcf_hat-df.logcf_det).std()))
