# Known result on bundled data: share of men with zero 1978 earnings, treated versus control (lalonde.csv).
# Run from the repository root:  Rscript tests/reference/lalonde_proportions.R
library(jsonlite)
d <- read.csv("datasets/lalonde.csv")
zero <- d$re78 == 0
x <- c(sum(zero[d$treat == 1]), sum(zero[d$treat == 0]))
n <- c(sum(d$treat == 1), sum(d$treat == 0))
p <- x / n
pt <- prop.test(x, n)
pt0 <- prop.test(x, n, correct = FALSE)
w1 <- prop.test(x[1], n[1], correct = FALSE)$conf.int
w2 <- prop.test(x[2], n[2], correct = FALSE)$conf.int
newc <- c(p[1] - p[2] - sqrt((p[1] - w1[1])^2 + (w2[2] - p[2])^2), p[1] - p[2] + sqrt((w1[2] - p[1])^2 + (p[2] - w2[1])^2))
tab <- table(factor(d$treat, levels = c(1, 0)), factor(zero, levels = c(TRUE, FALSE)))
ct <- chisq.test(tab)
ft <- fisher.test(tab)
out <- list(
  generated_by = "tests/reference/lalonde_proportions.R", r_version = R.version.string,
  successes = x, trials = n,
  prop_test = list(statistic = unname(pt$statistic), pvalue = pt$p.value, ci_low = pt$conf.int[1], ci_high = pt$conf.int[2]),
  prop_test_uncorrected = list(statistic = unname(pt0$statistic), pvalue = pt0$p.value, ci_low = pt0$conf.int[1], ci_high = pt0$conf.int[2]),
  newcombe = list(estimate = p[1] - p[2], ci_low = newc[1], ci_high = newc[2]),
  chisq = list(statistic = unname(ct$statistic), pvalue = ct$p.value),
  fisher = list(pvalue = ft$p.value, estimate = unname(ft$estimate))
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/reference/lalonde_proportions.json")
