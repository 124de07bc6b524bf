# Reference values for causalinfer.stats.shapiro_wilk, ks_test, levene_test and bartlett_test.
# Levene / Brown-Forsythe is written out as car::leveneTest computes it: the one-way ANOVA F of |y - centre(group)|.
# Run from the repository root:  Rscript tests/reference/distribution.R
library(jsonlite)
set.seed(7)
sw_cases <- list(
  list(name = "n3", x = c(2.1, 3.7, 2.2)),
  list(name = "n4", x = c(1.2, 5.1, 3.3, 3.0)),
  list(name = "n10", x = round(rnorm(10), 3)),
  list(name = "n11_skew", x = round(rexp(11), 3)),
  list(name = "n25", x = round(rnorm(25, 10, 2), 2)),
  list(name = "n120_unif", x = round(runif(120), 4)),
  list(name = "n700", x = round(rnorm(700), 5)),
  list(name = "small_range", x = round(rnorm(30, 0, 1e-3), 7))
)
sw_cases <- lapply(sw_cases, function(case) {
  s <- shapiro.test(case$x)
  case$expected <- list(statistic = unname(s$statistic), pvalue = s$p.value)
  case
})
xn <- round(rnorm(40, 0.2, 1.1), 4)
xe <- round(rexp(150, 2), 5)
xt <- round(rnorm(30), 1)               # ties
ya <- round(rnorm(35, 0.3), 4); yb <- round(rnorm(28, 0, 1.4), 4)
yl1 <- round(rnorm(120), 4); yl2 <- round(rnorm(110, 0.2), 4)
yt1 <- round(rnorm(25), 1); yt2 <- round(rnorm(30, 0.4), 1)
ks_cases <- list(
  list(name = "one_norm_exact", x = xn, dist = "norm", args = list(0, 1), r = quote(ks.test(xn, "pnorm", 0, 1))),
  list(name = "one_norm_params", x = xn, dist = "norm", args = list(0.2, 1.1), r = quote(ks.test(xn, "pnorm", 0.2, 1.1))),
  list(name = "one_less_exact", x = xn, dist = "norm", args = list(0, 1), alternative = "less",
       r = quote(ks.test(xn, "pnorm", 0, 1, alternative = "less"))),
  list(name = "one_greater_exact", x = xn, dist = "norm", args = list(0, 1), alternative = "greater",
       r = quote(ks.test(xn, "pnorm", 0, 1, alternative = "greater"))),
  list(name = "one_expon_asymptotic", x = xe, dist = "expon", args = list(0, 0.5), r = quote(ks.test(xe, "pexp", 2))),
  list(name = "one_expon_asym_greater", x = xe, dist = "expon", args = list(0, 0.5), alternative = "greater",
       r = quote(ks.test(xe, "pexp", 2, alternative = "greater"))),
  list(name = "one_forced_asymptotic", x = xn, dist = "norm", args = list(0, 1), exact = FALSE,
       r = quote(ks.test(xn, "pnorm", 0, 1, exact = FALSE))),
  list(name = "one_ties", x = xt, dist = "norm", args = list(0, 1), r = quote(ks.test(xt, "pnorm"))),
  list(name = "two_exact", x = ya, y = yb, r = quote(ks.test(ya, yb))),
  list(name = "two_exact_less", x = ya, y = yb, alternative = "less", r = quote(ks.test(ya, yb, alternative = "less"))),
  list(name = "two_exact_greater", x = ya, y = yb, alternative = "greater", r = quote(ks.test(ya, yb, alternative = "greater"))),
  list(name = "two_asymptotic", x = yl1, y = yl2, r = quote(ks.test(yl1, yl2))),
  list(name = "two_asymptotic_greater", x = yl1, y = yl2, alternative = "greater", r = quote(ks.test(yl1, yl2, alternative = "greater"))),
  list(name = "two_ties_exact", x = yt1, y = yt2, r = quote(ks.test(yt1, yt2))),
  list(name = "two_ties_exact_less", x = yt1, y = yt2, alternative = "less", r = quote(ks.test(yt1, yt2, alternative = "less"))),
  list(name = "two_forced_asymptotic", x = ya, y = yb, exact = FALSE, r = quote(ks.test(ya, yb, exact = FALSE)))
)
ks_cases <- lapply(ks_cases, function(case) {
  k <- suppressWarnings(eval(case$r))
  case$r <- NULL
  case$expected <- list(statistic = unname(k$statistic), pvalue = k$p.value, method = k$method)
  case
})
levene_r <- function(groups, center) {
  y <- unlist(groups); g <- factor(rep(seq_along(groups), lengths(groups)))
  z <- abs(y - ave(y, g, FUN = center))
  a <- anova(lm(z ~ g))
  list(statistic = a[1, "F value"], df1 = a[1, "Df"], df2 = a[2, "Df"], pvalue = a[1, "Pr(>F)"])
}
var_groups <- list(
  list(name = "three", groups = list(round(rnorm(12, 0, 1), 3), round(rnorm(15, 0, 2), 3), round(rnorm(10, 1, 1.2), 3))),
  list(name = "four_skew", groups = list(round(rexp(20), 3), round(rexp(14, 0.5), 3), round(rexp(9, 2), 3), round(rexp(17), 3))),
  list(name = "two", groups = list(c(8.9, 9.1, 9.0, 8.7, 9.3), c(7.1, 10.2, 8.8, 11.0, 6.5)))
)
var_groups <- lapply(var_groups, function(case) {
  b <- bartlett.test(case$groups)
  case$expected <- list(
    levene_median = levene_r(case$groups, median), levene_mean = levene_r(case$groups, mean),
    bartlett = list(statistic = unname(b$statistic), df = unname(b$parameter), pvalue = b$p.value)
  )
  case
})
out <- list(generated_by = "tests/reference/distribution.R", r_version = R.version.string,
            shapiro = sw_cases, ks = ks_cases, variance = var_groups)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = TRUE), "tests/reference/distribution.json")
