package org.fixres4j.fixres;

import java.util.Locale;

/**
 * A learning-rate schedule evaluated per optimizer step: an optional linear warmup from {@code warmupStart * lr}
 * over the first {@code warmupSteps} steps, then
 * <ul>
 *   <li>{@code cosine}: {@code min + (lr - min) * (1 + cos(pi * t)) / 2}, t the fraction of the post-warmup steps
 *       done (timm's CosineLRScheduler without restarts, per step);</li>
 *   <li>{@code step}: {@code lr * gamma ^ floor(epoch / stepEpochs)} (PyTorch's StepLR stepped per epoch, as the
 *       FixRes repository does);</li>
 *   <li>{@code constant}.</li>
 * </ul>
 *
 * @param kind cosine, step or constant
 * @param lr the base (peak) learning rate
 * @param minLr the cosine floor
 * @param warmupSteps linear warmup steps (0 for none)
 * @param warmupStart the warmup's starting fraction of lr
 * @param totalSteps steps of the whole run (epochs * steps per epoch)
 * @param stepsPerEpoch optimizer steps per epoch (for {@code step})
 * @param stepEpochs the StepLR period in epochs
 * @param gamma the StepLR factor
 */
public record TrainSchedule(String kind, double lr, double minLr, long warmupSteps, double warmupStart,
                            long totalSteps, long stepsPerEpoch, int stepEpochs, double gamma) {
    public TrainSchedule {
        kind = kind.trim().toLowerCase(Locale.ROOT);
        if (!kind.equals("cosine") && !kind.equals("step") && !kind.equals("constant")) {
            throw new IllegalArgumentException("schedule must be cosine, step or constant, got '" + kind + "'");
        }
        if (!(lr > 0) || !(minLr >= 0) || warmupSteps < 0 || totalSteps < 1 || stepsPerEpoch < 1
                || stepEpochs < 1 || !(gamma > 0)) {
            throw new IllegalArgumentException("bad schedule: lr " + lr + ", min " + minLr + ", warmup "
                    + warmupSteps + ", total " + totalSteps + ", per epoch " + stepsPerEpoch);
        }
    }

    /** The learning rate of (0-based) step {@code step}. */
    public double at(long step) {
        if (step < warmupSteps) {
            double f = (double) step / warmupSteps;
            return lr * (warmupStart + (1 - warmupStart) * f);
        }
        return switch (kind) {
            case "cosine" -> {
                long span = Math.max(1, totalSteps - warmupSteps);
                double t = Math.min(1.0, (double) (step - warmupSteps) / span);
                yield minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * t));
            }
            case "step" -> lr * Math.pow(gamma, Math.floor((double) (step / stepsPerEpoch) / stepEpochs));
            default -> lr;
        };
    }
}
