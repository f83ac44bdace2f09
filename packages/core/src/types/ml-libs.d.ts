// Minimal declarations of the parts of ml-cart 2.x and ml-random-forest 2.x that modelreg uses.
// Only what training/trainers/* and to-ensemble.ts read; see their sources in node_modules.

declare module 'ml-cart' {
  /** ml-matrix row vector (the class distribution of a classifier leaf). */
  export interface CartMatrix {
    readonly rows: number;
    readonly columns: number;
    get(row: number, column: number): number;
  }

  /** A trained node. Internal when both `left` and `right` are set: go left when `row[splitColumn] < splitValue`. */
  export interface CartNode {
    splitColumn?: number;
    splitValue?: number;
    left?: CartNode;
    right?: CartNode;
    /** Leaves: a class distribution (classifier; length = max class index in the leaf + 1) or the mean (regression). */
    distribution?: CartMatrix | number;
  }

  export interface CartOptions {
    gainFunction?: 'gini' | 'regression';
    splitFunction?: 'mean';
    /** A node with at most this many rows becomes a leaf. Default 3. */
    minNumSamples?: number;
    maxDepth?: number;
    gainThreshold?: number;
  }

  export class DecisionTreeClassifier {
    constructor(options?: CartOptions);
    root: CartNode;
    train(x: number[][], y: number[]): void;
    predict(x: number[][]): number[];
    toJSON(): unknown;
  }

  export class DecisionTreeRegression {
    constructor(options?: CartOptions);
    root: CartNode;
    train(x: number[][], y: number[]): void;
    predict(x: number[][]): number[];
    toJSON(): unknown;
  }
}

declare module 'ml-random-forest' {
  import type { CartNode, CartOptions } from 'ml-cart';

  export interface RandomForestOptions {
    /** A fraction in (0, 1] (1 counts as a fraction) or an integer count of features per tree. */
    maxFeatures?: number;
    /** Sample the per-tree features with replacement. */
    replacement?: boolean;
    nEstimators?: number;
    /** 32-bit integer seed of the row and feature sampling. */
    seed?: number;
    useSampleBagging?: boolean;
    treeOptions?: CartOptions;
    noOOB?: boolean;
    selectionMethod?: 'mean' | 'median';
  }

  export interface RandomForestEstimator {
    root: CartNode;
  }

  class RandomForestBase {
    /** Per tree: the original feature index of each of the tree's columns. */
    indexes: number[][];
    estimators: RandomForestEstimator[];
    nEstimators: number;
    train(x: number[][], y: number[]): void;
    predict(x: number[][]): number[];
  }

  export class RandomForestClassifier extends RandomForestBase {
    constructor(options?: RandomForestOptions);
  }

  export class RandomForestRegression extends RandomForestBase {
    constructor(options?: RandomForestOptions);
    selectionMethod: 'mean' | 'median';
  }
}
