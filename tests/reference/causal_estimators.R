# Reference values for causalinfer.causal estimators (IPW, regression adjustment, AIPW, double ML).
# Run from the repository root:  Rscript tests/reference/causal_estimators.R
#
# Point estimates come from glm() / lm() fits. Influence-function standard errors are computed here in an
# independent way: the estimator and its nuisance models are stacked as M-estimating equations and the
# sandwich A^{-1} B A^{-T} / n is formed with a numerical Jacobian A (central differences with Richardson
# extrapolation), so the analytic
# derivatives in the Python code are checked, not copied. "Sandwich" IPW standard errors use
# sandwich::vcovHC / vcovCL on the weighted outcome regression lm(y ~ a, weights = w).
library(jsonlite)
library(sandwich)

expit <- function(x) 1 / (1 + exp(-x))

num_jacobian <- function(f, theta) {
  f0 <- f(theta)
  J <- matrix(0, length(f0), length(theta))
  for (j in seq_along(theta)) {
    h <- 1e-5 * max(abs(theta[j]), 1e-4)
    d <- function(hh) {
      tp <- theta; tm <- theta
      tp[j] <- theta[j] + hh; tm[j] <- theta[j] - hh
      (f(tp) - f(tm)) / (2 * hh)
    }
    J[, j] <- (4 * d(h / 2) - d(h)) / 3  # Richardson extrapolation: truncation error O(h^4)
  }
  J
}

# SE of mu1 - mu0 (the last two parameters) from stacked estimating functions psi(theta) -> n x k
stacked_se <- function(psi, theta, cluster = NULL) {
  P <- psi(theta)
  n <- nrow(P)
  A <- num_jacobian(function(t) colMeans(psi(t)), theta)
  if (is.null(cluster)) {
    B <- crossprod(P) / n
  } else {
    S <- rowsum(P, cluster)
    G <- nrow(S)
    B <- G / (G - 1) * crossprod(S) / n
  }
  Ai <- solve(A)
  V <- Ai %*% B %*% t(Ai) / n
  k <- length(theta)
  L <- rep(0, k); L[k - 1] <- 1; L[k] <- -1
  sqrt(drop(t(L) %*% V %*% L))
}

target <- function(a, estimand) switch(estimand, ATE = rep(1, length(a)), ATT = a, ATC = 1 - a)
bal_weights <- function(a, e, estimand) switch(estimand,
  ATE = ifelse(a == 1, 1 / e, 1 / (1 - e)),
  ATT = ifelse(a == 1, 1, e / (1 - e)),
  ATC = ifelse(a == 1, (1 - e) / e, 1))

# ------------------------------------------------------------------ IPW
ipw_ref <- function(y, a, X, estimand, normalize, clip = NULL, cluster = NULL) {
  fit <- glm.fit(X, a, family = binomial(), control = glm.control(epsilon = 1e-14, maxit = 100))
  beta <- fit$coefficients
  clipf <- function(e) if (is.null(clip)) e else pmin(pmax(e, clip), 1 - clip)
  cc <- target(a, estimand)
  e <- clipf(drop(expit(X %*% beta)))
  w <- bal_weights(a, e, estimand)
  if (normalize) {
    mu1 <- sum(a * w * y) / sum(a * w); mu0 <- sum((1 - a) * w * y) / sum((1 - a) * w)
  } else {
    mu1 <- sum(a * w * y) / sum(cc); mu0 <- sum((1 - a) * w * y) / sum(cc)
  }
  psi <- function(t) {
    b <- t[seq_len(ncol(X))]; m1 <- t[ncol(X) + 1]; m0 <- t[ncol(X) + 2]
    eraw <- drop(expit(X %*% b)); ee <- clipf(eraw); ww <- bal_weights(a, ee, estimand)
    if (normalize) {
      g1 <- a * ww * (y - m1); g0 <- (1 - a) * ww * (y - m0)
    } else {
      g1 <- a * ww * y - cc * m1; g0 <- (1 - a) * ww * y - cc * m0
    }
    cbind(X * (a - eraw), g1, g0)
  }
  se <- stacked_se(psi, c(beta, mu1, mu0), cluster)
  out <- list(estimate = mu1 - mu0, std_error = se, mu1 = mu1, mu0 = mu0)
  if (normalize) {
    wl <- lm(y ~ a, weights = w)
    V <- if (is.null(cluster)) vcovHC(wl, type = "HC0") else vcovCL(wl, cluster = cluster, type = "HC0", cadjust = TRUE)
    out$sandwich_estimate <- unname(coef(wl)[2])
    out$sandwich_std_error <- sqrt(V[2, 2])
  }
  out
}

# ------------------------------------------------------------------ regression adjustment
reg_ref <- function(y, a, Z, inter, estimand, cluster = NULL) {
  design <- function(av) {
    D <- cbind(1, av, Z)
    if (length(inter)) D <- cbind(D, Z[, inter, drop = FALSE] * av)
    D
  }
  X <- design(a); X1 <- design(rep(1, length(a))); X0 <- design(rep(0, length(a)))
  fit <- lm.fit(X, y)
  g <- fit$coefficients
  cc <- target(a, estimand)
  mu1 <- sum(cc * (X1 %*% g)) / sum(cc); mu0 <- sum(cc * (X0 %*% g)) / sum(cc)
  psi <- function(t) {
    gg <- t[seq_len(ncol(X))]; m1 <- t[ncol(X) + 1]; m0 <- t[ncol(X) + 2]
    r <- drop(y - X %*% gg)
    cbind(X * r, cc * (drop(X1 %*% gg) - m1), cc * (drop(X0 %*% gg) - m0))
  }
  se <- stacked_se(psi, c(g, mu1, mu0), cluster)
  out <- list(estimate = mu1 - mu0, std_error = se)
  if (length(inter) == 0) {
    # no interactions: the effect is the coefficient of a, and its influence-function SE is HC0
    lmf <- lm(y ~ X - 1)
    V <- if (is.null(cluster)) vcovHC(lmf, type = "HC0") else vcovCL(lmf, cluster = cluster, type = "HC0", cadjust = TRUE)
    out$coef_estimate <- unname(coef(lmf)[2]); out$coef_std_error <- sqrt(V[2, 2])
  }
  out
}

# ------------------------------------------------------------------ AIPW (optionally cross-fitted) and DML
nuis <- function(y, a, Z, train, test) {
  Xtr <- cbind(1, Z[train, , drop = FALSE]); Xte <- cbind(1, Z[test, , drop = FALSE])
  pf <- glm.fit(Xtr, a[train], family = binomial(), control = glm.control(epsilon = 1e-14, maxit = 100))
  e <- drop(expit(Xte %*% pf$coefficients))
  at <- a[train]; yt <- y[train]
  m1 <- drop(Xte %*% lm.fit(Xtr[at == 1, ], yt[at == 1])$coefficients)
  m0 <- drop(Xte %*% lm.fit(Xtr[at == 0, ], yt[at == 0])$coefficients)
  list(e = e, m1 = m1, m0 = m0)
}

aipw_ref <- function(y, a, Z, estimand, folds = NULL, clip = NULL, cluster = NULL) {
  n <- length(y); e <- m1 <- m0 <- numeric(n)
  if (is.null(folds)) {
    nu <- nuis(y, a, Z, rep(TRUE, n), rep(TRUE, n)); e <- nu$e; m1 <- nu$m1; m0 <- nu$m0
  } else {
    for (k in sort(unique(folds))) {
      nu <- nuis(y, a, Z, folds != k, folds == k)
      e[folds == k] <- nu$e; m1[folds == k] <- nu$m1; m0[folds == k] <- nu$m0
    }
  }
  if (!is.null(clip)) e <- pmin(pmax(e, clip), 1 - clip)
  cc <- target(a, estimand)
  psi <- switch(estimand,
    ATE = m1 - m0 + a * (y - m1) / e - (1 - a) * (y - m0) / (1 - e),
    ATT = a * (y - m0) - (1 - a) * e / (1 - e) * (y - m0),
    ATC = (1 - a) * (m1 - y) + a * (1 - e) / e * (y - m1))
  est <- sum(psi) / sum(cc)
  phi <- (psi - cc * est) / mean(cc)
  se <- if (is.null(cluster)) sqrt(sum(phi^2)) / n else {
    s <- rowsum(phi, cluster); G <- nrow(s); sqrt(G / (G - 1) * sum(s^2)) / n
  }
  list(estimate = est, std_error = se)
}

dml_ref <- function(y, a, Z, folds) {
  n <- length(y); e <- l <- numeric(n)
  for (k in sort(unique(folds))) {
    tr <- folds != k; te <- folds == k
    Xtr <- cbind(1, Z[tr, , drop = FALSE]); Xte <- cbind(1, Z[te, , drop = FALSE])
    pf <- glm.fit(Xtr, a[tr], family = binomial(), control = glm.control(epsilon = 1e-14, maxit = 100))
    e[te] <- drop(expit(Xte %*% pf$coefficients))
    l[te] <- drop(Xte %*% lm.fit(Xtr, y[tr])$coefficients)
  }
  va <- a - e; vy <- y - l
  fit <- lm(vy ~ va - 1)
  list(estimate = unname(coef(fit)[1]), std_error = sqrt(vcovHC(fit, type = "HC0")[1, 1]))
}

# ------------------------------------------------------------------ propensity-score stratification
strat_ref <- function(y, a, Z, estimand, k = 5) {
  X <- cbind(1, Z)
  e <- drop(expit(X %*% glm.fit(X, a, family = binomial(), control = glm.control(epsilon = 1e-14, maxit = 100))$coefficients))
  s <- cut(e, breaks = quantile(e, probs = seq(0, 1, length.out = k + 1)), include.lowest = TRUE, labels = FALSE)
  cc <- target(a, estimand)
  est <- 0; v <- 0
  wk <- tapply(cc, s, sum) / sum(cc)
  for (j in 1:k) {
    y1 <- y[s == j & a == 1]; y0 <- y[s == j & a == 0]
    est <- est + wk[j] * (mean(y1) - mean(y0))
    v <- v + wk[j]^2 * (mean((y1 - mean(y1))^2) / length(y1) + mean((y0 - mean(y0))^2) / length(y0))
  }
  list(estimate = unname(est), std_error = unname(sqrt(v)))
}

# ------------------------------------------------------------------ data
nhefs <- read.csv("datasets/nhefs.csv")
nh_Z <- model.matrix(~ sex + race + age + I(age^2) + as.factor(education) + smokeintensity + I(smokeintensity^2) +
                       smokeyrs + I(smokeyrs^2) + as.factor(exercise) + as.factor(active) + wt71 + I(wt71^2), data = nhefs)[, -1]
nh <- list(y = nhefs$wt82_71, a = nhefs$qsmk, Z = nh_Z)

set.seed(20261128)
n <- 600
x1 <- rnorm(n); x2 <- rnorm(n); x3 <- rbinom(n, 1, 0.4)
g <- sample(c("a", "b", "c"), n, replace = TRUE)
cl <- sample(1:40, n, replace = TRUE)
lin <- -0.3 + 0.8 * x1 - 0.5 * x2 + 0.6 * x3 + 0.4 * (g == "b") - 0.7 * (g == "c") + 0.3 * x1^2
a <- rbinom(n, 1, expit(lin))
y <- round(1 + 2 * a + 1.5 * x1 + x2 - x3 + 0.5 * (g == "c") + 0.7 * a * x2 + 0.5 * x1^2 + rnorm(n), 6)
sim_df <- data.frame(y = y, a = a, x1 = round(x1, 8), x2 = round(x2, 8), x3 = x3, g = g, cl = cl)
sim_Z <- model.matrix(~ x1 + I(x1^2) + x2 + x3 + g, data = sim_df)[, -1]
sim <- list(y = sim_df$y, a = sim_df$a, Z = sim_Z)
folds <- integer(n)
for (arm in 0:1) { idx <- which(sim_df$a == arm); folds[idx] <- sample(rep(0:4, length.out = length(idx))) }

cases <- list()
add <- function(name, data, method, args, expected) {
  cases[[length(cases) + 1]] <<- list(name = name, data = data, method = method, args = args, expected = expected)
}
sets <- list(nhefs = nh, sim = sim)
for (ds in names(sets)) {
  d <- sets[[ds]]
  X <- cbind(1, d$Z)
  for (est in c("ATE", "ATT", "ATC")) {
    add(paste(ds, "ipw hajek", est), ds, "ipw", list(estimand = est, normalize = TRUE), ipw_ref(d$y, d$a, X, est, TRUE))
    add(paste(ds, "ipw ht", est), ds, "ipw", list(estimand = est, normalize = FALSE), ipw_ref(d$y, d$a, X, est, FALSE))
    add(paste(ds, "regression all", est), ds, "regression", list(estimand = est, interactions = TRUE),
        reg_ref(d$y, d$a, d$Z, seq_len(ncol(d$Z)), est))
    add(paste(ds, "regression none", est), ds, "regression", list(estimand = est, interactions = FALSE),
        reg_ref(d$y, d$a, d$Z, integer(0), est))
    add(paste(ds, "aipw", est), ds, "aipw", list(estimand = est), aipw_ref(d$y, d$a, d$Z, est))
    add(paste(ds, "stratification", est), ds, "stratification", list(estimand = est), strat_ref(d$y, d$a, d$Z, est))
  }
}
si <- which(colnames(nh_Z) == "smokeintensity")
add("nhefs regression smokeintensity ATE", "nhefs", "regression", list(estimand = "ATE", interactions = list("smokeintensity")),
    reg_ref(nh$y, nh$a, nh$Z, si, "ATE"))
simX <- cbind(1, sim$Z)
add("sim ipw hajek clip ATE", "sim", "ipw", list(estimand = "ATE", normalize = TRUE, clip = 0.2), ipw_ref(sim$y, sim$a, simX, "ATE", TRUE, clip = 0.2))
add("sim ipw ht clip ATT", "sim", "ipw", list(estimand = "ATT", normalize = FALSE, clip = 0.2), ipw_ref(sim$y, sim$a, simX, "ATT", FALSE, clip = 0.2))
add("sim ipw hajek cluster ATE", "sim", "ipw", list(estimand = "ATE", normalize = TRUE, cluster = "cl"), ipw_ref(sim$y, sim$a, simX, "ATE", TRUE, cluster = sim_df$cl))
add("sim regression cluster ATE", "sim", "regression", list(estimand = "ATE", interactions = TRUE, cluster = "cl"),
    reg_ref(sim$y, sim$a, sim$Z, seq_len(ncol(sim$Z)), "ATE", cluster = sim_df$cl))
add("sim regression none cluster ATE", "sim", "regression", list(estimand = "ATE", interactions = FALSE, cluster = "cl"),
    reg_ref(sim$y, sim$a, sim$Z, integer(0), "ATE", cluster = sim_df$cl))
add("sim aipw cluster ATT", "sim", "aipw", list(estimand = "ATT", cluster = "cl"), aipw_ref(sim$y, sim$a, sim$Z, "ATT", cluster = sim_df$cl))
add("sim aipw clip ATE", "sim", "aipw", list(estimand = "ATE", clip = 0.2), aipw_ref(sim$y, sim$a, sim$Z, "ATE", clip = 0.2))
for (est in c("ATE", "ATT", "ATC")) {
  add(paste("sim aipw crossfit", est), "sim", "aipw_folds", list(estimand = est), aipw_ref(sim$y, sim$a, sim$Z, est, folds = folds))
}
add("sim stratification 4 strata ATE", "sim", "stratification", list(estimand = "ATE", n_strata = 4), strat_ref(sim$y, sim$a, sim$Z, "ATE", k = 4))
add("sim dml plr crossfit", "sim", "dml_folds", list(estimand = "ATE"), dml_ref(sim$y, sim$a, sim$Z, folds))

# Cinelli-Hazlett robustness values from lm's classical t statistic of the treatment (formulas of the paper)
rv_ref <- function(y, a, Z, q = 1, alpha = 0.05) {
  fit <- lm(y ~ a + Z)
  tt <- summary(fit)$coefficients["a", "t value"]
  dof <- fit$df.residual
  f <- q * abs(tt) / sqrt(dof)
  rv <- 0.5 * (sqrt(f^4 + 4 * f^2) - f^2)
  fa <- f - abs(qt(alpha / 2, dof - 1)) / sqrt(dof - 1)
  rva <- if (fa < 0) 0 else 0.5 * (sqrt(fa^4 + 4 * fa^2) - fa^2)
  list(t = tt, df = dof, partial_r2 = tt^2 / (tt^2 + dof), rv = rv, rv_alpha = rva, coefficient = unname(coef(fit)["a"]))
}
robustness <- list(nhefs = rv_ref(nh$y, nh$a, nh$Z), sim = rv_ref(sim$y, sim$a, sim$Z), sim_q05 = rv_ref(sim$y, sim$a, sim$Z, q = 0.5, alpha = 0.1))

# Nearest-neighbour matching on the propensity score with replacement, by hand (MatchIt 4.5.1, installed
# here, repeats one control ratio times when replace = TRUE; kosukeimai/MatchIt issue 159), with the
# Abadie-Imbens (2006) variance: N_T^-2 [sum_T (tau_i - tau)^2 + sum_j (K_j (K_j - 1) / M^2 + 2 K_j / M [j a target]) sigma2_j]
match_ref <- function(y, a, Z, estimand, M) {
  X <- cbind(1, Z)
  e <- drop(expit(X %*% glm.fit(X, a, family = binomial(), control = glm.control(epsilon = 1e-14, maxit = 100))$coefficients))
  n <- length(y); K <- numeric(n); contrib <- rep(NA_real_, n)
  nearest <- function(i, pool, m) pool[order(abs(e[pool] - e[i]))[1:m]]
  dirs <- list(ATT = list(c(1, 0, 1)), ATC = list(c(0, 1, -1)), ATE = list(c(1, 0, 1), c(0, 1, -1)))[[estimand]]
  for (d in dirs) {
    pool <- which(a == d[2])
    for (i in which(a == d[1])) {
      nb <- nearest(i, pool, M)
      contrib[i] <- d[3] * (y[i] - mean(y[nb]))
      K[nb] <- K[nb] + 1
    }
  }
  target <- !is.na(contrib)
  tau <- mean(contrib[target])
  s2 <- numeric(n)
  for (arm in 0:1) {
    pool <- which(a == arm)
    for (i in pool) {
      nb <- nearest(i, setdiff(pool, i), M)
      s2[i] <- M / (M + 1) * (y[i] - mean(y[nb]))^2
    }
  }
  coefv <- K * (K - 1) / M^2 + ifelse(target, 2 * K / M, 0)
  v <- (sum((contrib[target] - tau)^2) + sum(coefv * s2)) / sum(target)^2
  list(estimate = tau, std_error = sqrt(v))
}
matching_cases <- list(
  list(name = "lalonde ATT 1", data = "lalonde", estimand = "ATT", ratio = 1,
       expected = match_ref(lal_y <- read.csv("datasets/lalonde.csv")$re78, read.csv("datasets/lalonde.csv")$treat,
                            as.matrix(read.csv("datasets/lalonde.csv")[, c("age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75")]), "ATT", 1)),
  list(name = "sim ATT 3", data = "sim", estimand = "ATT", ratio = 3, expected = match_ref(sim$y, sim$a, sim$Z, "ATT", 3)),
  list(name = "sim ATC 2", data = "sim", estimand = "ATC", ratio = 2, expected = match_ref(sim$y, sim$a, sim$Z, "ATC", 2)),
  list(name = "sim ATE 1", data = "sim", estimand = "ATE", ratio = 1, expected = match_ref(sim$y, sim$a, sim$Z, "ATE", 1))
)

out <- list(
  generated_by = "tests/reference/causal_estimators.R",
  r_version = R.version.string,
  sandwich_version = as.character(packageVersion("sandwich")),
  nhefs = list(categorical = c("education", "exercise", "active"), squared = c("age", "smokeintensity", "smokeyrs", "wt71"),
               covariates = c("sex", "race", "age", "education", "smokeintensity", "smokeyrs", "exercise", "active", "wt71")),
  sim = list(data = sim_df, folds = folds, categorical = "g", squared = "x1", covariates = c("x1", "x2", "x3", "g"),
             design_columns = colnames(sim_Z)),
  cases = cases,
  robustness = robustness,
  matching = matching_cases
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = TRUE, dataframe = "columns"),
           "tests/reference/causal_estimators.json")
