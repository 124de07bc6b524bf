# Reference values for causalinfer.predict (metric intervals, paired comparison, drift tests).
# Run from the repository root:  Rscript tests/reference/trust.R
suppressPackageStartupMessages({library(jsonlite); library(pROC)})
set.seed(20261128)

# Wilson score intervals: prop.test without continuity correction
wilson <- list()
for (cs in list(c(0, 10, 0.95), c(10, 10, 0.95), c(37, 50, 0.95), c(1, 3, 0.9), c(813, 1000, 0.99), c(5, 120, 0.95))) {
  pt <- prop.test(cs[1], cs[2], correct = FALSE, conf.level = cs[3])
  wilson[[length(wilson) + 1]] <- list(x = cs[1], n = cs[2], conf_level = cs[3], ci_low = pt$conf.int[1], ci_high = pt$conf.int[2])
}

# AUC with DeLong intervals, and paired DeLong tests
mk <- function(n, prev, sep_a, sep_b, digits = NA) {
  y <- rbinom(n, 1, prev)
  if (length(unique(y)) < 2) y[1:2] <- c(0, 1)
  z <- rnorm(n)
  a <- plogis(sep_a * (2 * y - 1) + z)
  b <- plogis(sep_b * (2 * y - 1) + 0.6 * z + 0.8 * rnorm(n))
  if (!is.na(digits)) { a <- round(a, digits); b <- round(b, digits) }
  list(y = y, a = a, b = b)
}
auc_cases <- list()
specs <- list(list("balanced", 80, 0.5, 1.0, 0.6, NA, 0.95), list("imbalanced", 150, 0.15, 1.2, 1.0, NA, 0.95),
              list("ties", 120, 0.4, 0.8, 0.7, 1, 0.95), list("small", 25, 0.5, 0.7, 0.3, NA, 0.9),
              list("large", 600, 0.3, 0.5, 0.45, 2, 0.99))
for (s in specs) {
  d <- mk(s[[2]], s[[3]], s[[4]], s[[5]], s[[6]])
  cl <- s[[7]]
  ra <- roc(d$y, d$a, levels = c(0, 1), direction = "<", quiet = TRUE)
  rb <- roc(d$y, d$b, levels = c(0, 1), direction = "<", quiet = TRUE)
  ci_a <- ci.auc(ra, method = "delong", conf.level = cl)
  tt <- roc.test(ra, rb, method = "delong", paired = TRUE, conf.level = cl)
  brier <- (d$a - d$y)^2
  ll <- ifelse(d$y == 1, -log(d$a), -log(1 - d$a))
  llb <- ifelse(d$y == 1, -log(d$b), -log(1 - d$b))
  tb <- t.test(brier, conf.level = cl)
  tl <- t.test(ll, conf.level = cl)
  tp <- t.test(ll, llb, paired = TRUE, conf.level = cl)
  acc <- prop.test(sum((d$a >= 0.5) == d$y), length(d$y), correct = FALSE, conf.level = cl)
  auc_cases[[length(auc_cases) + 1]] <- list(
    name = s[[1]], y = d$y, a = d$a, b = d$b, conf_level = cl,
    auc = as.numeric(ci_a[2]), auc_low = as.numeric(ci_a[1]), auc_high = as.numeric(ci_a[3]),
    diff_statistic = unname(tt$statistic), diff_pvalue = tt$p.value,
    diff_low = tt$conf.int[1], diff_high = tt$conf.int[2],
    auc_a = unname(tt$estimate[1]), auc_b = unname(tt$estimate[2]),
    brier = unname(tb$estimate), brier_low = tb$conf.int[1], brier_high = tb$conf.int[2],
    log_loss = unname(tl$estimate), log_loss_low = tl$conf.int[1], log_loss_high = tl$conf.int[2],
    ll_diff = unname(tp$estimate), ll_diff_low = tp$conf.int[1], ll_diff_high = tp$conf.int[2],
    ll_diff_t = unname(tp$statistic), ll_diff_p = tp$p.value,
    accuracy_low = acc$conf.int[1], accuracy_high = acc$conf.int[2]
  )
}

# Regression: MAE t interval
yr <- rnorm(90, 10, 3); pr <- yr + rnorm(90, 0.3, 1.5)
tm <- t.test(abs(yr - pr), conf.level = 0.95)
tmse <- t.test((yr - pr)^2, conf.level = 0.95)
regression <- list(y = yr, pred = pr, mae = unname(tm$estimate), mae_low = tm$conf.int[1], mae_high = tm$conf.int[2],
                   rmse_low = sqrt(tmse$conf.int[1]), rmse_high = sqrt(tmse$conf.int[2]))

# Drift: chi-square test of homogeneity, two-sample KS statistic, p.adjust
ref_c <- sample(c("a", "b", "c", "d"), 700, replace = TRUE, prob = c(0.4, 0.3, 0.2, 0.1))
cur_c <- sample(c("a", "b", "c", "d", "e"), 400, replace = TRUE, prob = c(0.35, 0.3, 0.2, 0.1, 0.05))
tab <- rbind(table(factor(ref_c, levels = c("a", "b", "c", "d", "e"))), table(factor(cur_c, levels = c("a", "b", "c", "d", "e"))))
cs <- suppressWarnings(chisq.test(tab, correct = FALSE))
ref_x <- round(rnorm(500), 2); cur_x <- round(rnorm(300, 0.2, 1.1), 2)
ks <- suppressWarnings(ks.test(ref_x, cur_x))
pv <- c(0.001, 0.04, 0.03, 0.2, 0.0005, NA)
drift <- list(ref_c = ref_c, cur_c = cur_c, chisq_statistic = unname(cs$statistic), chisq_df = unname(cs$parameter), chisq_pvalue = cs$p.value,
              ref_x = ref_x, cur_x = cur_x, ks_statistic = unname(ks$statistic),
              pvalues = c(0.001, 0.04, 0.03, 0.2, 0.0005), holm = p.adjust(pv, "holm")[1:5], bh = p.adjust(pv, "BH")[1:5])

out <- list(generated_by = "tests/reference/trust.R", r_version = R.version.string, proc_version = as.character(packageVersion("pROC")),
            wilson = wilson, auc = auc_cases, regression = regression, drift = drift)
write_json(out, "tests/reference/trust.json", digits = NA, auto_unbox = TRUE, pretty = FALSE)
