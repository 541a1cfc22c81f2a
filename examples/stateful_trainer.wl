(* A stateful LSTM trained with a custom "$Trainer" loop, written in the Wolfram Language.
   Run: python -m netgraph.wl examples/stateful_trainer.wl

   The series is cut into `streams` contiguous streams; batch k holds step k of every
   stream, and each batch starts from the states the previous batch ended with (read from
   trainer["OutputArrays"]), so the LSTM sees each stream as one long sequence. The states
   go back to zero at the start of every round. *)

SeedRandom[1234];
series = Accumulate[RandomInteger[{-1, 1}, 121]] / 10.;
streams = 4; rounds = 3; size = 8;
steps = Floor[(Length[series] - 1) / streams];

(* example i: the value at step i (a length-1 sequence of 1-vectors) -> the next value *)
X = Partition[Partition[series[[;; streams steps]], 1], 1];
Y = series[[2 ;; streams steps + 1]];
(* stream s holds examples (s - 1) steps + 1 ... s steps; batch k is their k-th elements *)
Xs = Partition[X, steps];
Ys = Partition[Y, steps];

net = NetGraph[{LongShortTermMemoryLayer[size], SequenceLastLayer[], LinearLayer[]},
  {NetPort["InitialState"] -> NetPort[1, "State"],
   NetPort["InitialCellState"] -> NetPort[1, "CellState"],
   NetPort[1, "State"] -> NetPort["FinalState"],
   NetPort[1, "CellState"] -> NetPort["FinalCellState"],
   1 -> 2 -> 3},
  "Input" -> {1, 1}, "Output" -> "Real"];

{trainer, {gen, nmax}} = NetTrain[net, <|"Input" -> X, "Output" -> Y|>,
  <|"Output" -> Scaled[1], "FinalState" -> Scaled[0], "FinalCellState" -> Scaled[0]|>,
  {"$Trainer", "$TrainingGenerator"},
  BatchSize -> streams, Method -> {"ADAM", "LearningRate" -> 0.01},
  TrainingProgressReporting -> None, TrainingProgressFunction -> Function["StopTraining"]];

zero = ConstantArray[0., {streams, size}];
roundLoss[] := Module[{h = zero, c = zero, total = 0., out},
  Do[
    TrainerUpdate[trainer, <|"Input" -> Xs[[All, k]], "Output" -> Ys[[All, k]],
      "InitialState" -> h, "InitialCellState" -> c|>];
    out = trainer["OutputArrays"];
    h = Normal[out["FinalState"]]; c = Normal[out["FinalCellState"]];
    total += TrainerCurrentLoss[trainer]["OutputLoss"],
    {k, steps}];
  total / steps];

losses = Table[roundLoss[], {rounds}];
Print["mean loss per round: ", losses];
Print["the loss fell: ", Last[losses] < First[losses]];
trained = trainer["Net"];
(* the trained net: one step of stream 1 from zero states *)
trained[<|"Input" -> X[[1]], "InitialState" -> zero[[1]], "InitialCellState" -> zero[[1]]|>,
  "Output"]
