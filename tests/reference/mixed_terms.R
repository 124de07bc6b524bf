# Reference values for causalinfer.stats.lmm with several random-effect terms (nested, crossed, a random slope on
# one of two factors) and for causalinfer.stats.glmm (Laplace approximation), from lme4::lmer / lme4::glmer with
# lmerTest's Satterthwaite degrees of freedom.  The data are simulated here and written to mixed_terms_data.csv.
# Run from the repository root:  Rscript tests/reference/mixed_terms.R
suppressMessages({library(lme4); library(lmerTest)})
library(jsonlite)
set.seed(20261130)
# nested: 12 schools, 3 to 5 classes each, 4 to 8 pupils per class
school <- character(0); class <- character(0)
for (s in 1:12) for (k in 1:sample(3:5, 1)) {
  m <- sample(4:8, 1); school <- c(school, rep(sprintf("s%02d", s), m)); class <- c(class, rep(sprintf("c%d", k), m))
}
n1 <- length(school)
sid <- as.integer(factor(school)); cid <- as.integer(factor(paste(school, class, sep = ":")))
x1 <- round(rnorm(n1), 3)
y1 <- round(2 + 0.6 * x1 + rnorm(12, sd = 0.9)[sid] + rnorm(max(cid), sd = 0.5)[cid] + rnorm(n1, sd = 0.8), 3)
nested <- data.frame(y = y1, x = x1, school = school, class = class)
# crossed: 24 subjects x 16 items, about 80% of the pairs observed
grid <- expand.grid(subject = sprintf("p%02d", 1:24), item = sprintf("i%02d", 1:16), stringsAsFactors = FALSE)
grid <- grid[runif(nrow(grid)) < 0.8, ]
n2 <- nrow(grid)
pid <- as.integer(factor(grid$subject)); iid <- as.integer(factor(grid$item))
x2 <- round(rnorm(n2), 3)
bs0 <- rnorm(24, sd = 0.8); bs1 <- rnorm(24, sd = 0.4); bi <- rnorm(16, sd = 0.6)
y2 <- round(1 - 0.4 * x2 + bs0[pid] + bs1[pid] * x2 + bi[iid] + rnorm(n2, sd = 0.7), 3)
# an outcome with no item variance at all (a singular fit for (1 | item))
y3 <- round(1 - 0.4 * x2 + bs0[pid] + rnorm(n2, sd = 0.7), 3)
crossed <- data.frame(y = y2, y0 = y3, x = x2, subject = grid$subject, item = grid$item)
# binary and count outcomes for the generalised models: 40 groups of 8 to 20
G <- 40; m <- sample(8:20, G, replace = TRUE); g <- rep(sprintf("g%02d", 1:G), m); gid <- as.integer(factor(g))
x3 <- round(rnorm(sum(m)), 3); b0 <- rnorm(G, sd = 1.0); b1 <- rnorm(G, sd = 0.5)
eta <- -0.3 + 0.8 * x3 + b0[gid]
yb <- rbinom(sum(m), 1, plogis(eta))
ys <- rbinom(sum(m), 1, plogis(-0.3 + 0.8 * x3 + b0[gid] + b1[gid] * x3))
yc <- rpois(sum(m), exp(0.2 + 0.3 * x3 + 0.6 * b0[gid]))
binary <- data.frame(yb = yb, ys = ys, yc = yc, x = x3, g = g)
all <- rbind(
  data.frame(set = "nested", y = nested$y, y0 = NA, yb = NA, ys = NA, yc = NA, x = nested$x, a = nested$school, b = nested$class),
  data.frame(set = "crossed", y = crossed$y, y0 = crossed$y0, yb = NA, ys = NA, yc = NA, x = crossed$x, a = crossed$subject, b = crossed$item),
  data.frame(set = "binary", y = NA, y0 = NA, yb = yb, ys = ys, yc = yc, x = x3, a = g, b = NA)
)
write.csv(all, "tests/reference/mixed_terms_data.csv", row.names = FALSE, na = "")
ctl <- lmerControl(optCtrl = list(xtol_abs = 1e-12, ftol_abs = 1e-14))
new_nested <- data.frame(x = c(0.5, -1, 0.2), school = c("s01", "s01", "s99"), class = c("c1", "c9", "c1"))
new_crossed <- data.frame(x = c(0.5, -1, 0.2), subject = c("p01", "p99", "p99"), item = c("i01", "i01", "i99"))
fits <- list(
  list(name = "nested", set = "nested", formula = "y ~ x + (1 | school/class)", new = new_nested),
  list(name = "crossed", set = "crossed", formula = "y ~ x + (1 | subject) + (1 | item)", new = new_crossed),
  list(name = "crossed slope", set = "crossed", formula = "y ~ x + (x | subject) + (1 | item)", new = new_crossed),
  list(name = "singular", set = "crossed", formula = "y0 ~ x + (1 | subject) + (1 | item)", new = new_crossed),
  list(name = "uncorrelated", set = "crossed", formula = "y ~ x + (1 | subject) + (0 + x | subject) + (1 | item)", new = new_crossed)
)
cases <- list()
for (f in fits) {
  d <- if (f$set == "nested") nested else crossed
  for (reml in c(TRUE, FALSE)) {
    fit <- lmer(as.formula(f$formula), data = d, REML = reml, control = ctl)
    co <- summary(fit)$coefficients
    vc <- as.data.frame(VarCorr(fit))
    cases[[length(cases) + 1]] <- list(
      name = paste(f$name, if (reml) "REML" else "ML"), set = f$set, formula = f$formula, reml = reml,
      terms = rownames(co), estimate = unname(co[, "Estimate"]), se = unname(co[, "Std. Error"]), df = unname(co[, "df"]),
      sigma = sigma(fit), vc_grp = vc$grp, vc_var1 = vc$var1, vc_var2 = vc$var2, vc_var = vc$vcov, vc_sd = vc$sdcor,
      loglik = as.numeric(logLik(fit)), deviance = if (reml) unname(REMLcrit(fit)) else unname(deviance(fit)),
      aic = AIC(fit), bic = BIC(fit), singular = isSingular(fit),
      fitted = unname(fitted(fit)), fixed_part = unname(predict(fit, re.form = NA)),
      new_full = unname(predict(fit, newdata = f$new, allow.new.levels = TRUE)),
      new_fixed = unname(predict(fit, newdata = f$new, re.form = NA))
    )
  }
}
gfits <- list(
  list(name = "binomial intercept", formula = "yb ~ x + (1 | g)", family = "binomial"),
  list(name = "binomial slope", formula = "ys ~ x + (x | g)", family = "binomial"),
  list(name = "poisson intercept", formula = "yc ~ x + (1 | g)", family = "poisson")
)
# glmer's penalised IRLS stops at a relative change of 1e-7 by default, which leaves its Laplace deviance about 4e-4
# off (the factor L comes from the weights one step back); the reference fit tightens it, the default fit is recorded too
gctl <- glmerControl(optimizer = "bobyqa", tolPwrss = 1e-13, optCtrl = list(rhoend = 1e-10, maxfun = 1e5))
newb <- data.frame(x = c(0.5, -1, 0.2), g = c("g01", "g02", "g99"))
gcases <- list()
for (f in gfits) {
  fam <- if (f$family == "binomial") binomial else poisson
  fit <- glmer(as.formula(f$formula), data = binary, family = fam, nAGQ = 1, control = gctl)
  secs <- system.time(for (i in 1:5) glmer(as.formula(f$formula), data = binary, family = fam, nAGQ = 1))[["elapsed"]] / 5
  default <- glmer(as.formula(f$formula), data = binary, family = fam, nAGQ = 1)
  co <- summary(fit)$coefficients
  vc <- as.data.frame(VarCorr(fit))
  gcases[[length(gcases) + 1]] <- list(
    name = f$name, formula = f$formula, family = f$family, terms = rownames(co),
    estimate = unname(co[, 1]), se = unname(co[, 2]), se_rx = unname(sqrt(diag(as.matrix(vcov(fit, use.hessian = FALSE))))),
    z = unname(co[, 3]), p = unname(co[, 4]), theta = unname(getME(fit, "theta")),
    vc_var1 = vc$var1, vc_var2 = vc$var2, vc_var = vc$vcov, vc_sd = vc$sdcor,
    loglik = as.numeric(logLik(fit)), aic = AIC(fit), bic = BIC(fit), deviance = deviance(fit),
    ranef = unname(as.matrix(ranef(fit)$g)), ranef_levels = rownames(ranef(fit)$g),
    link = unname(predict(fit, type = "link")), response = unname(predict(fit, type = "response")),
    new_link = unname(predict(fit, newdata = newb, type = "link", allow.new.levels = TRUE)),
    new_response_fixed = unname(predict(fit, newdata = newb, type = "response", re.form = NA)),
    estimate_default = unname(fixef(default)), theta_default = unname(getME(default, "theta")),
    loglik_default = as.numeric(logLik(default)), glmer_seconds = secs, n = nrow(binary)
  )
}
out <- list(generated_by = "tests/reference/mixed_terms.R", r_version = R.version.string,
            lme4_version = as.character(packageVersion("lme4")), lmerTest_version = as.character(packageVersion("lmerTest")),
            new_nested = new_nested, new_crossed = new_crossed, new_binary = newb, cases = cases, glmm = gcases)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = FALSE, dataframe = "columns", matrix = "rowmajor"),
           "tests/reference/mixed_terms.json")
