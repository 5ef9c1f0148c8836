/* placeholder until master is written */
int main(void);
