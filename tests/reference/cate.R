# Reference values for causalinfer.designs.cate: hand-written cross-fitted AIPW scores (lm outcome models per arm,
# logistic propensity) on given folds, subgroup means of the scores, and T-learner CATEs from two lm fits.
# Run from the repository root:  Rscript tests/reference/cate.R
suppressPackageStartupMessages(library(jsonlite))
set.seed(2024)
n <- 500
x1 <- round(rnorm(n), 4); x2 <- round(runif(n), 4)
t <- rbinom(n, 1, plogis(0.5 * x1 - 0.5 + x2))
y <- round(1 + x1 + x2 + t * (1 + x1) + rnorm(n), 4)
grp <- as.integer(x1 > 0)
folds <- sample(rep(1:4, length.out = n))
sim <- data.frame(y = y, t = t, x1 = x1, x2 = x2, grp = grp, folds = folds)
mu0 <- mu1 <- e <- numeric(n)
for (k in 1:4) {
  tr <- folds != k; te <- folds == k
  m1 <- lm(y ~ x1 + x2, data = sim[tr & t == 1, ]); m0 <- lm(y ~ x1 + x2, data = sim[tr & t == 0, ])
  ps <- glm(t ~ x1 + x2, family = binomial, data = sim[tr, ])
  mu1[te] <- predict(m1, sim[te, ]); mu0[te] <- predict(m0, sim[te, ]); e[te] <- predict(ps, sim[te, ], type = "response")
}
ec <- pmin(pmax(e, 0.01), 0.99)
phi <- mu1 - mu0 + t * (y - mu1) / ec - (1 - t) * (y - mu0) / (1 - ec)
sub <- lapply(0:1, function(v) list(level = v, effect = mean(phi[grp == v]), se = sd(phi[grp == v]) / sqrt(sum(grp == v))))
t1 <- lm(y ~ x1 + x2, data = sim[t == 1, ]); t0 <- lm(y ~ x1 + x2, data = sim[t == 0, ])
tau_t <- predict(t1, sim) - predict(t0, sim)
out <- list(generated_by = "tests/reference/cate.R", r_version = R.version.string, sim = as.list(sim),
            expected = list(ate = mean(phi), ate_se = sd(phi) / sqrt(n), phi = phi, propensity = e, subgroups = sub, tau_t = unname(tau_t)))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = TRUE), "tests/reference/cate.json")
