export {
  createCloudHsmV2Client,
  createCluster,
  describeAllBackups,
  describeAllClusters,
  modifyCluster,
  type BackupDescription,
  type ClusterDescription,
  type ClusterMode,
  type CreateClusterInput,
  type HsmDescription,
  type ModifyClusterInput,
  type NetworkType,
} from './lib/cloudhsm-v2.client';
