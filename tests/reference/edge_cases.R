# Reference values for edge cases of causalinfer.stats (degenerate tables, tiny tails, tied data, power at small n,
# cluster-robust inference with G - 1 degrees of freedom). Run from the repository root:
#   Rscript tests/reference/edge_cases.R
library(jsonlite)
library(sandwich)
library(lmtest)
num <- function(v) if (is.null(v) || length(v) == 0) NULL else if (is.na(v)) "NaN" else if (is.infinite(v)) (if (v > 0) "Inf" else "-Inf") else unname(v)
out <- list(r_version = R.version.string)

# Fisher's exact test on tables with empty rows or columns (R: p = 1, estimate 0, interval [0, Inf]);
# all-zero tables larger than 2 x 2 are an error in R (FEXACT error 3)
fisher_case <- function(m, alt = "two.sided") {
  r <- tryCatch(fisher.test(m, alternative = alt), error = function(e) conditionMessage(e))
  if (is.character(r)) return(list(table = m, alternative = alt, error = r))
  list(table = m, alternative = alt, pvalue = num(r$p.value), estimate = num(r$estimate),
       ci_low = num(r$conf.int[1]), ci_high = num(r$conf.int[2]))
}
tables <- list(matrix(0, 2, 2), matrix(c(0, 3, 0, 5), 2), matrix(c(3, 0, 5, 0), 2), matrix(c(0, 0, 3, 5), 2),
               matrix(c(2, 0, 0, 0), 2), matrix(c(3, 5, 0, 0), 2))
out$fisher <- list()
for (m in tables) for (alt in c("two.sided", "less", "greater")) out$fisher[[length(out$fisher) + 1]] <- fisher_case(m, alt)
out$fisher_rxc <- list(fisher_case(matrix(0, 3, 2)), fisher_case(matrix(c(0, 0, 0, 1, 2, 3), 3)),
                       fisher_case(matrix(c(1, 0, 2, 3, 0, 4), 3)))

# Kendall: two points, large-sample test (z and p are NaN in R; tau is -1)
k2 <- suppressWarnings(cor.test(c(1, 2), c(2, 1), method = "kendall", exact = FALSE))
out$kendall_two <- list(estimate = num(k2$estimate), statistic = num(k2$statistic), pvalue = num(k2$p.value))
# Kendall: exact test on 92 pairs with a tiny p-value (a tail summed directly, not 1 - cdf)
set.seed(12)
kx <- round(rnorm(92), 6); ky <- round(1.3 * kx + rnorm(92), 6)
kx_test <- cor.test(kx, ky, method = "kendall", exact = TRUE)
kx_less <- cor.test(kx, -ky, method = "kendall", exact = TRUE, alternative = "less")
kx_greater <- cor.test(kx, ky, method = "kendall", exact = TRUE, alternative = "greater")
out$kendall_exact <- list(x = kx, y = ky, estimate = num(kx_test$estimate), statistic = num(kx_test$statistic),
                          pvalue = num(kx_test$p.value), pvalue_less_negated = num(kx_less$p.value),
                          pvalue_greater = num(kx_greater$p.value))

# t-test on nearly constant data (the effect-size interval cannot be found; the test is unaffected)
tt <- t.test(c(5.0, 5.0001, 4.9999))
out$ttest_near_constant <- list(x = c(5.0, 5.0001, 4.9999), statistic = num(tt$statistic), pvalue = num(tt$p.value),
                                ci_low = tt$conf.int[1], ci_high = tt$conf.int[2])

# power.t.test below n = 2 and tiny significance levels (tol tight so the roots are R's equations' roots)
out$power <- list(
  n_small = power.t.test(delta = 1, sd = 1, sig.level = 0.2, power = 0.2, tol = 1e-12)$n,
  power_n074 = power.t.test(n = 0.74, delta = 1)$power,
  power_n1 = power.t.test(n = 1, delta = 1)$power,
  power_n15 = power.t.test(n = 1.5, delta = 1)$power,
  power_n15_one = power.t.test(n = 1.5, delta = 1, type = "one.sample")$power,
  sig_tiny = suppressWarnings(power.t.test(n = 50, delta = 2, power = 0.9, sig.level = NULL, tol = 1e-300)$sig.level),
  sig_small = suppressWarnings(power.t.test(n = 20, delta = 2, power = 0.9, sig.level = NULL, tol = 1e-300)$sig.level),
  prop_p2 = suppressWarnings(power.prop.test(n = 100, p1 = 0.99, power = 0.9, tol = 1e-12)$p2)
)

# Wilcoxon signed rank with every difference tied
w1 <- suppressWarnings(wilcox.test(c(1, 1, 1, 1)))
w2 <- suppressWarnings(wilcox.test(c(2, 2, -2, 2)))
w0 <- suppressWarnings(wilcox.test(c(0, 0, 0, 0)))
out$wilcoxon_tied <- list(
  list(x = c(1, 1, 1, 1), statistic = num(w1$statistic), pvalue = num(w1$p.value)),
  list(x = c(2, 2, -2, 2), statistic = num(w2$statistic), pvalue = num(w2$p.value)),
  list(x = c(0, 0, 0, 0), statistic = num(w0$statistic), pvalue = num(w0$p.value))
)

# Wilcoxon rank sum with two constant samples (W and p; R stops only when asked for the interval)
m1 <- suppressWarnings(wilcox.test(c(1, 1, 1), c(2, 2, 2)))
out$mann_whitney_constant <- list(x = c(1, 1, 1), y = c(2, 2, 2), statistic = num(m1$statistic), pvalue = num(m1$p.value))

# Cluster-robust OLS: sandwich::vcovCL (HC1) with t tests on n - k df and on G - 1 df
set.seed(3)
G <- 12; m <- 8
g <- rep(seq_len(G), each = m)
x1 <- rnorm(G * m) + rep(rnorm(G), each = m)
x2 <- rnorm(G * m)
y <- 1 + 0.5 * x1 - 0.3 * x2 + rep(rnorm(G), each = m) + rnorm(G * m)
fit <- lm(y ~ x1 + x2)
V <- vcovCL(fit, cluster = g, type = "HC1")
ct_nk <- coeftest(fit, vcov. = V)
ct_g1 <- coeftest(fit, vcov. = V, df = G - 1)
ci_g1 <- coefci(fit, vcov. = V, df = G - 1)
wt <- waldtest(fit, . ~ 1, vcov = V, test = "F")
wt_g1 <- waldtest(fit, . ~ 1, vcov = V, test = "F")
out$cluster <- list(
  y = y, x1 = x1, x2 = x2, cluster = g,
  estimate = unname(coef(fit)), std_error = unname(sqrt(diag(V))),
  pvalue_nk = unname(ct_nk[, 4]), pvalue_g1 = unname(ct_g1[, 4]),
  ci_low_g1 = unname(ci_g1[, 1]), ci_high_g1 = unname(ci_g1[, 2]),
  wald_f = unname(wt$F[2]), wald_pvalue_nk = unname(wt[2, 4]),
  wald_pvalue_g1 = unname(pf(wt$F[2], 2, G - 1, lower.tail = FALSE))
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/reference/edge_cases.json")
