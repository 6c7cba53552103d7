import { builder } from "../builder.js";
import type { ClusterInfo } from "@berth/core/cluster";

const Cluster = builder.objectRef<ClusterInfo>("Cluster").implement({
  description: "Where this replica runs, as cluster detection decided at start-up.",
  fields: (t) => ({
    mode: t.exposeString("mode", { description: "local, pm2, kubernetes, replicas or forced." }),
    clustered: t.exposeBoolean("clustered"),
    replicaId: t.exposeString("replicaId"),
    totalReplicas: t.exposeInt("totalReplicas"),
    environment: t.exposeString("environment"),
  }),
});

builder.queryField("cluster", (t) =>
  t.field({
    type: Cluster,
    resolve: (_root, _args, ctx) => ctx.services.config.cluster,
  }),
);
