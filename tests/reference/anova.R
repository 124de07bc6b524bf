# Reference values for causalinfer.stats.anova_oneway and tukey_hsd.
# Classic F: summary(aov()); Welch: oneway.test(); effect-size CI: uniroot on pf(..., ncp) with tol 1e-12;
# Tukey: TukeyHSD(aov()).  Run from the repository root:  Rscript tests/reference/anova.R
library(jsonlite)
set.seed(20261128)
mk <- function(sizes, means, sds, offset = 0, digits = 3) {
  lapply(seq_along(sizes), function(i) round(offset + rnorm(sizes[i], means[i], sds[i]), digits))
}
datasets <- list(
  balanced3 = mk(c(10, 10, 10), c(5, 5.8, 6.5), c(1, 1, 1)),
  unbalanced4 = mk(c(8, 15, 6, 12), c(0, 0.4, 1.2, 0.1), c(1, 2.5, 0.7, 1.4)),
  two = mk(c(14, 9), c(2, 2.9), c(1.1, 0.6)),
  null5 = mk(c(7, 9, 11, 8, 10), rep(3, 5), c(1, 1.2, 0.8, 1, 1.1)),
  offset = mk(c(12, 9, 10), c(0.1, 0.25, 0.05), c(0.1, 0.08, 0.12), offset = 1e6, digits = 4)
)
ncp_bound <- function(f, df1, df2, target) {
  g <- function(l) pf(f, df1, df2, ncp = l) - target
  if (g(0) <= 0) return(0)
  hi <- max(10, 2 * f * df1)
  while (g(hi) > 0) hi <- hi * 2
  uniroot(g, c(0, hi), tol = 1e-12)$root
}
cases <- list()
for (nm in names(datasets)) {
  groups <- datasets[[nm]]
  y <- unlist(groups)
  g <- factor(rep(seq_along(groups), lengths(groups)))
  fit <- aov(y ~ g)
  tab <- summary(fit)[[1]]
  welch <- oneway.test(y ~ g)
  classic <- oneway.test(y ~ g, var.equal = TRUE)
  ssb <- tab[1, "Sum Sq"]; ssw <- tab[2, "Sum Sq"]; msw <- tab[2, "Mean Sq"]
  df1 <- tab[1, "Df"]; df2 <- tab[2, "Df"]; f <- tab[1, "F value"]
  N <- length(y)
  for (cl in c(0.95, 0.90)) {
    a <- 1 - cl
    lo <- ncp_bound(f, df1, df2, 1 - a / 2); hi <- ncp_bound(f, df1, df2, a / 2)
    tk <- TukeyHSD(fit, conf.level = cl)$g
    # R's qtukey stops its secant iteration at eps = 1e-4; the precise quantile solves ptukey(q) = cl (tol 1e-13)
    k <- length(groups)
    qprec <- uniroot(function(q) ptukey(q, k, df2) - cl, c(1, 20), tol = 1e-13)$root
    ni <- lengths(groups); pairs <- combn(k, 2)
    half <- sqrt(msw / 2 * (1 / ni[pairs[1, ]] + 1 / ni[pairs[2, ]]))
    cases[[length(cases) + 1]] <- list(
      name = paste(nm, cl), groups = groups, conf_level = cl,
      classic = list(F = f, df1 = df1, df2 = df2, pvalue = tab[1, "Pr(>F)"], ss_between = ssb, ss_within = ssw,
                     oneway_F = unname(classic$statistic), oneway_p = classic$p.value, method = classic$method),
      welch = list(F = unname(welch$statistic), df1 = unname(welch$parameter[1]), df2 = unname(welch$parameter[2]),
                   pvalue = welch$p.value, method = welch$method),
      eta_squared = ssb / (ssb + ssw), omega_squared = (ssb - df1 * msw) / (ssb + ssw + msw),
      eta_ci = c(lo / (lo + N), hi / (hi + N)),
      tukey = list(term = rownames(tk), diff = unname(tk[, "diff"]), lwr = unname(tk[, "lwr"]), upr = unname(tk[, "upr"]),
                   padj = unname(tk[, "p adj"]), q_precise = qprec,
                   lwr_precise = unname(tk[, "diff"]) - qprec * half, upr_precise = unname(tk[, "diff"]) + qprec * half)
    )
  }
}
out <- list(generated_by = "tests/reference/anova.R", r_version = R.version.string, cases = cases)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = TRUE), "tests/reference/anova.json")
