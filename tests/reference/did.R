# Reference values for causalinfer.designs.did_2x2 / twfe / event_study / callaway_santanna.
# lm with sandwich::vcovHC / vcovCL for the regressions; group-time ATTs computed by hand from means.
# Run from the repository root:  Rscript tests/reference/did.R
suppressPackageStartupMessages({library(sandwich); library(lmtest); library(jsonlite)})
castle <- read.csv("datasets/castle.csv")

vc <- function(fit, type, cl) switch(type,
  classical = vcov(fit), HC0 = vcovHC(fit, type = "HC0"), HC1 = vcovHC(fit, type = "HC1"),
  cluster = vcovCL(fit, cluster = cl, type = "HC1"))

coefs <- function(fit, V, which) {
  ct <- coeftest(fit, vcov. = V)[which, , drop = FALSE]
  ci <- confint(coeftest(fit, vcov. = V))[which, , drop = FALSE]
  list(coef = unname(ct[, 1]), se = unname(ct[, 2]), t = unname(ct[, 3]), p = unname(ct[, 4]),
       ci_low = unname(ci[, 1]), ci_high = unname(ci[, 2]), df = fit$df.residual)
}

# ---- simulated panels
set.seed(7)
N <- 60; TT <- 6
sim <- expand.grid(time = 1:TT, id = 1:N)
sim$x <- round(rnorm(nrow(sim)), 4)
a_i <- rnorm(N)[sim$id]
first <- c(rep(3, 15), rep(5, 15), rep(Inf, 30))[sim$id]
sim$d <- as.integer(sim$time >= first)
sim$y <- round(a_i + 0.3 * sim$time + 1.0 * sim$d + 0.5 * sim$x + rnorm(nrow(sim)) * (1 + 0.5 * (sim$id %% 3)), 4)
sim$w <- round(runif(N, 1, 3)[sim$id], 4)
unbal <- sim[-c(3, 10, 17, 100, 101, 250), ]
two <- sim[sim$time %in% c(2, 3), ]
two$g <- as.integer(first[as.integer(rownames(two))] == 3)

cases <- list()
add <- function(x) cases[[length(cases) + 1]] <<- x

twfe_case <- function(name, data, y, d, unit, time, covs, type, weights = NULL, label) {
  rhs <- paste(c(d, covs, sprintf("factor(%s)", unit), sprintf("factor(%s)", time)), collapse = " + ")
  data$.w <- if (is.null(weights)) 1 else data[[weights]]
  fit <- lm(as.formula(paste(y, "~", rhs)), data = data, weights = .w)
  V <- vc(fit, type, data[[unit]])
  list(name = name, kind = "twfe", data = label, outcome = y, treatment = d, unit = unit, time = time,
       covariates = covs, cov_type = type, weights = weights,
       expected = coefs(fit, V, c(d, covs)))
}
for (type in c("classical", "HC1", "cluster")) add(twfe_case(paste0("castle_", type), castle, "l_homicide", "post", "sid", "year", character(0), type, label = "castle"))
add(twfe_case("castle_weighted", castle, "l_homicide", "post", "sid", "year", character(0), "cluster", "popwt", "castle"))
add(twfe_case("castle_covariates", castle, "l_homicide", "post", "sid", "year", c("unemployrt", "poverty"), "cluster", "popwt", "castle"))
add(twfe_case("sim_cluster", sim, "y", "d", "id", "time", "x", "cluster", label = "sim"))
add(twfe_case("unbalanced_cluster", unbal, "y", "d", "id", "time", "x", "cluster", label = "unbal"))
add(twfe_case("unbalanced_weighted_HC0", unbal, "y", "d", "id", "time", character(0), "HC0", "w", "unbal"))

# ---- 2x2
for (type in c("HC1", "cluster")) {
  fit <- lm(y ~ g * I(time == 3) + x, data = two)
  V <- vc(fit, type, two$id)
  add(list(name = paste0("two_", type), kind = "2x2", data = "two", outcome = "y", treatment = "g", time = "time",
           unit = if (type == "cluster") "id" else NULL, covariates = "x", cov_type = type,
           expected = coefs(fit, V, "g:I(time == 3)TRUE")))
}

# ---- event study on castle, window [-5, 4], reference -1, end points binned
es <- castle
ev <- ifelse(es$effyear > 0, es$year - es$effyear, NA)
ev <- pmin(pmax(ev, -5), 4)
names_e <- c()
for (e in c(-5:-2, 0:4)) {
  nm <- if (e < 0) paste0("lead", -e) else paste0("lag", e)
  es[[nm]] <- as.integer(!is.na(ev) & ev == e)
  names_e <- c(names_e, nm)
}
fit <- lm(as.formula(paste("l_homicide ~", paste(names_e, collapse = " + "), "+ factor(sid) + factor(year)")), data = es)
V <- vcovCL(fit, cluster = es$sid, type = "HC1")
res <- coefs(fit, V, names_e)
pre <- names_e[1:4]
b <- coef(fit)[pre]
res$pretrend_wald <- unname(drop(t(b) %*% solve(V[pre, pre]) %*% b))
post <- names_e[5:9]
a <- rep(1 / 5, 5)
res$post_mean <- sum(a * coef(fit)[post])
res$post_mean_se <- sqrt(drop(t(a) %*% V[post, post] %*% a))
add(list(name = "castle_event_study", kind = "event_study", data = "castle", outcome = "l_homicide", treatment = "post",
         unit = "sid", time = "year", covariates = character(0), cov_type = "cluster", window = c(-5, 4), expected = res))

# ---- Callaway-Sant'Anna group-time ATTs by hand (unconditional, varying base period)
cs_by_hand <- function(data, y, unit, time, gcol, control) {
  wide <- reshape(data[, c(unit, time, y)], idvar = unit, timevar = time, direction = "wide")
  wide <- wide[order(wide[[unit]]), ]
  G <- sapply(wide[[unit]], function(u) data[[gcol]][data[[unit]] == u][1])
  Y <- as.matrix(wide[, -1])
  times <- sort(unique(data[[time]]))
  G[G == 0] <- Inf
  out <- list()
  for (g in sort(unique(G[is.finite(G) & G > min(times)]))) {
    gi <- match(g, times)
    for (ti in 2:length(times)) {
      base <- if (ti >= gi) gi - 1 else ti - 1
      ctrl <- if (control == "never") !is.finite(G) else (G > times[max(ti, base)] & G != g)
      if (!any(ctrl)) next
      dy <- Y[, ti] - Y[, base]
      tr <- G == g
      att <- mean(dy[tr]) - mean(dy[ctrl])
      psi <- numeric(nrow(Y))
      psi[tr] <- (dy[tr] - mean(dy[tr])) / sum(tr)
      psi[ctrl] <- -(dy[ctrl] - mean(dy[ctrl])) / sum(ctrl)
      out[[length(out) + 1]] <- list(g = g, t = times[ti], att = att, psi = psi, n_g = sum(tr))
    }
  }
  att <- sapply(out, `[[`, "att")
  se <- sapply(out, function(o) sqrt(sum(o$psi^2)))
  gg <- sapply(out, `[[`, "g"); tt <- sapply(out, `[[`, "t"); ng <- sapply(out, `[[`, "n_g")
  P <- sapply(out, `[[`, "psi")
  postc <- tt >= gg
  w <- ifelse(postc, ng, 0); w <- w / sum(w)
  simple <- sum(w * att); simple_se <- sqrt(sum((P %*% w)^2))
  e <- tt - gg
  dyn <- sapply(sort(unique(e)), function(k) { wk <- ifelse(e == k, ng, 0); wk / sum(wk) })
  dyn_est <- drop(t(dyn) %*% att)
  dyn_se <- sqrt(colSums((P %*% dyn)^2))
  post_e <- sort(unique(e)) >= 0
  wd <- rowMeans(dyn[, post_e, drop = FALSE])
  list(g = gg, t = tt, att = att, se = se, simple = simple, simple_se = simple_se,
       event_times = sort(unique(e)), dynamic = dyn_est, dynamic_se = dyn_se,
       dynamic_overall = sum(wd * att), dynamic_overall_se = sqrt(sum((P %*% wd)^2)))
}
for (control in c("never", "notyet")) {
  add(list(name = paste0("castle_cs_", control), kind = "cs", data = "castle", outcome = "l_homicide", treatment = "post",
           unit = "sid", time = "year", control = control, expected = cs_by_hand(castle, "l_homicide", "sid", "year", "effyear", control)))
}
sim$gfirst <- ifelse(is.finite(first), first, 0)
add(list(name = "sim_cs_notyet", kind = "cs", data = "sim", outcome = "y", treatment = "d", unit = "id", time = "time",
         control = "notyet", expected = cs_by_hand(sim, "y", "id", "time", "gfirst", "notyet")))

out <- list(generated_by = "tests/reference/did.R", r_version = R.version.string,
            packages = list(sandwich = as.character(packageVersion("sandwich"))),
            sim = as.list(sim[, c("id", "time", "x", "d", "y", "w")]), unbalanced_drop = c(3, 10, 17, 100, 101, 250), cases = cases)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = TRUE), "tests/reference/did.json")
