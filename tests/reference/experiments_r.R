# Reference values for causalinfer.experiments from R: Welch t.test for the absolute lift of a mean (treatment
# minus control, also one-sided against a margin), chisq.test for the sample-ratio check, and estimatr::lm_lin with HC2
# errors for the post-stratified difference in means (strata: sessions modulo 3).
# Reads the experiments written by experiments_gbstats.py. Run from the repository root:
#   Rscript tests/reference/experiments_r.R
library(jsonlite)
d <- read.csv("tests/reference/experiments_gbstats_data.csv")
cases <- list()
for (ds in sort(unique(d$dataset))) {
  p <- d[d$dataset == ds, ]
  counts <- c(sum(p$variant == "control"), sum(p$variant == "b"), sum(p$variant == "c"))
  ch <- chisq.test(counts, p = c(1, 1, 1) / 3)
  cases[[length(cases) + 1]] <- list(dataset = ds, what = "srm", statistic = unname(ch$statistic), df = unname(ch$parameter), pvalue = ch$p.value)
  ch2 <- chisq.test(counts, p = c(0.4, 0.3, 0.3))
  cases[[length(cases) + 1]] <- list(dataset = ds, what = "srm_unequal", statistic = unname(ch2$statistic), df = unname(ch2$parameter), pvalue = ch2$p.value)
  for (v in c("b", "c")) {
    y1 <- p$revenue[p$variant == v]
    y0 <- p$revenue[p$variant == "control"]
    tt <- t.test(y1, y0)
    cases[[length(cases) + 1]] <- list(dataset = ds, variant = v, what = "welch", estimate = unname(tt$estimate[1] - tt$estimate[2]),
      statistic = unname(tt$statistic), df = unname(tt$parameter), pvalue = tt$p.value, ci_low = tt$conf.int[1], ci_high = tt$conf.int[2],
      std_error = unname(tt$stderr))
    pair <- p[p$variant %in% c("control", v), ]
    pair$treat <- as.integer(pair$variant == v)
    pair$stratum <- factor(pair$sessions %% 3)
    ll <- estimatr::lm_lin(revenue ~ treat, covariates = ~ stratum, data = pair, se_type = "HC2")
    cases[[length(cases) + 1]] <- list(dataset = ds, variant = v, what = "poststratified", estimate = unname(coef(ll)["treat"]),
      std_error = unname(ll$std.error["treat"]))
    ni <- t.test(y1, y0, mu = -1.5, alternative = "greater")
    cases[[length(cases) + 1]] <- list(dataset = ds, variant = v, what = "noninferiority", margin = 1.5, statistic = unname(ni$statistic),
      df = unname(ni$parameter), pvalue = ni$p.value, ci_low = ni$conf.int[1])
  }
}
out <- list(R = R.version.string, cases = cases)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/reference/experiments_r.json")
