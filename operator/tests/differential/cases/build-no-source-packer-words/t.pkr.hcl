build{}
