// echarts-gl ships no type declarations; the cockpit uses only these two installers.
declare module 'echarts-gl/charts' {
  export const Bar3DChart: import('echarts/core').EChartsExtensionInstaller;
}
declare module 'echarts-gl/components' {
  export const Geo3DComponent: import('echarts/core').EChartsExtensionInstaller;
}
