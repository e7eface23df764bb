import { DEFAULT_MLP_WIDTHS, type ModelConfig } from '../config/trainConfig.js';
import { createCnn } from './cnn.js';
import { create2c2d, create3c3d, createDeepobsMlp } from './deepobs.js';
import { createMlp } from './mlp.js';
import type { Model } from './model.js';
import { createResnet20 } from './resnet20.js';

export function createModel(config: ModelConfig, inputShape: [number, number, number], numClasses: number, seed: number): Model {
  switch (config.name) {
    case 'mlp':
      return createMlp(inputShape, numClasses, config.hiddenWidths ?? DEFAULT_MLP_WIDTHS, seed);
    case 'cnn':
      return createCnn(inputShape, numClasses, seed);
    case 'resnet20':
      return createResnet20(inputShape, numClasses, seed);
    case 'deepobs-mlp':
      return createDeepobsMlp(inputShape, numClasses, seed);
    case '2c2d':
      return create2c2d(inputShape, numClasses, seed);
    case '3c3d':
      return create3c3d(inputShape, numClasses, seed);
    default:
      throw new Error(`unknown model '${String((config as { name: unknown }).name)}'`);
  }
}
